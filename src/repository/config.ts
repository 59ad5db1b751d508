/**
 * Repository configuration (spec §1.6): the records, read from YAML and KDL, merged by id across
 * the `repo` domain's files, and written back as KDL the way Rust moss writes it.
 */
import fs from "node:fs";
import path from "node:path";
import { configFiles, savedConfigPath, type ConfigFile } from "../config/loader.ts";
import { MossError } from "../errors.ts";
import { writeFileAtomic } from "../installation/index.ts";
import { parsePublicKey } from "./signature.ts";

export const VERSION_SCOPES = ["stream", "tag", "history"] as const;
export type VersionScope = (typeof VERSION_SCOPES)[number];

export type RepositorySource =
  | { kind: "direct"; uri: string }
  | { kind: "root-index"; baseUri: string; channel: string; version: { scope: VersionScope; id: string }; arch: string };

export interface Repository {
  id: string;
  description: string;
  source: RepositorySource;
  /**
   * moss-ts only: other places serving the same repository (index URLs for a direct source, base
   * URIs for a root index), tried in order when the first fails. Rust ignores the field.
   */
  mirrors: string[];
  /** moss-ts only: the ed25519 key (base64 of its raw bytes) the index must be signed with. */
  publicKey?: string;
  /** Higher is preferred. */
  priority: number;
  active: boolean;
  /** The file it was read from (undefined for one being added). */
  file?: string;
}

export class RepositoryConfigError extends MossError {
  constructor(message: string) {
    super("REPOSITORY_CONFIG", message);
    this.name = "RepositoryConfigError";
  }
}

/** Ids from the command line or KDL node names: anything neither alphanumeric nor `-` becomes `_`. */
export function sanitizeId(id: string): string {
  return id.replace(/[^\p{L}\p{N}-]/gu, "_");
}

const IDENTIFIER = /^[\p{L}\p{N}][\p{L}\p{N}-]*$/u;

export function parseVersion(text: string): { scope: VersionScope; id: string } {
  const slash = text.indexOf("/");
  const scope = text.slice(0, slash) as VersionScope;
  const id = text.slice(slash + 1);
  if (slash < 0 || !VERSION_SCOPES.includes(scope) || !IDENTIFIER.test(id)) {
    throw new RepositoryConfigError(`version must be stream/<id>, tag/<id> or history/<id>, not "${text}"`);
  }
  return { scope, id };
}

export function formatVersion(version: { scope: VersionScope; id: string }): string {
  return `${version.scope}/${version.id}`;
}

/** A URL in the normalised WHATWG form the cache directory name is made from. */
export function normaliseUrl(text: string, field: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RepositoryConfigError(`${field} is not a URL: "${text}"`);
  }
  if (!["http:", "https:", "file:"].includes(url.protocol)) throw new RepositoryConfigError(`${field} must be http, https or file: "${text}"`);
  return url.href;
}

/** One record from its fields, as parsed from either format; what is wrong is named. */
export function repositoryFromFields(id: string, fields: Record<string, unknown>): Repository {
  const str = (key: string): string | undefined => {
    const value = fields[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw new RepositoryConfigError(`${id}: ${key} must be a string`);
    return value;
  };
  // Unknown fields are ignored, as Rust's reader ignores them (this one's `mirrors` among them).
  const priority = fields.priority;
  if (typeof priority !== "number" || !Number.isSafeInteger(priority) || priority < 0) throw new RepositoryConfigError(`${id}: priority must be an unsigned integer`);
  const active = fields.active ?? true;
  if (typeof active !== "boolean") throw new RepositoryConfigError(`${id}: active must be true or false`);
  const uri = str("uri");
  const baseUri = str("base-uri");
  let source: RepositorySource;
  if (uri !== undefined && baseUri === undefined) {
    source = { kind: "direct", uri: normaliseUrl(uri, `${id}: uri`) };
  } else if (baseUri !== undefined && uri === undefined) {
    const version = str("version");
    if (version === undefined) throw new RepositoryConfigError(`${id}: base-uri needs a version`);
    const channel = str("channel") ?? "main";
    if (!IDENTIFIER.test(channel)) throw new RepositoryConfigError(`${id}: channel "${channel}" is not an identifier`);
    source = { kind: "root-index", baseUri: normaliseUrl(baseUri, `${id}: base-uri`), channel, version: parseVersion(version), arch: str("arch") ?? "x86_64" };
  } else {
    throw new RepositoryConfigError(`${id}: exactly one of uri and base-uri is needed`);
  }
  const mirrorList = fields.mirrors ?? [];
  const mirrors = (Array.isArray(mirrorList) ? mirrorList : [mirrorList]).map((m) => {
    if (typeof m !== "string") throw new RepositoryConfigError(`${id}: mirrors must be URLs`);
    return normaliseUrl(m, `${id}: mirror`);
  });
  const publicKey = str("public-key");
  if (publicKey !== undefined) parsePublicKey(publicKey);
  return { id: sanitizeId(id), description: str("description") ?? "...", source, mirrors, ...(publicKey === undefined ? {} : { publicKey }), priority, active };
}

/** The repositories one file defines. */
export async function parseConfigFile(file: ConfigFile, text: string): Promise<Repository[]> {
  if (file.format === "yaml") {
    const doc = Bun.YAML.parse(text);
    if (doc === null || doc === undefined) return [];
    if (typeof doc !== "object" || Array.isArray(doc)) throw new RepositoryConfigError("expected a map of repositories");
    return Object.entries(doc as Record<string, unknown>).map(([id, value]) => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RepositoryConfigError(`${id}: expected a map of fields`);
      return repositoryFromFields(id, value as Record<string, unknown>);
    });
  }
  const { parse } = await import("@bgotink/kdl");
  const doc = parse(text);
  return doc.nodes.map((node) => {
    const fields: Record<string, unknown> = {};
    for (const child of node.children?.nodes ?? []) {
      const name = child.getName();
      if (name in fields) throw new RepositoryConfigError(`${node.getName()}: ${name} given twice`);
      fields[name] = name === "mirrors" ? child.getArguments() : child.getArgument(0);
    }
    return repositoryFromFields(node.getName(), fields);
  });
}

/**
 * Every configured repository of the root, enabled or not, by id. A file that does not parse
 * is skipped and `warn` is told which and why.
 */
export async function loadRepositories(root: string, warn: (message: string) => void): Promise<Map<string, Repository>> {
  const repositories = new Map<string, Repository>();
  for (const file of configFiles(root, "repo")) {
    let found: Repository[];
    try {
      found = await parseConfigFile(file, fs.readFileSync(file.path, "utf8"));
    } catch (error) {
      warn(`skipping ${file.path}: ${(error as Error).message.split("\n")[0]}`);
      continue;
    }
    for (const repository of found) repositories.set(repository.id, { ...repository, file: file.path });
  }
  return repositories;
}

/** The record as Rust moss writes it: 4-space indent, every field, defaults included. */
export async function renderRepositories(repositories: Repository[]): Promise<string> {
  const { Document, Node, format } = await import("@bgotink/kdl");
  const nodes = repositories.map((repository) => {
    const fields: [string, string | number | boolean][] = [["description", repository.description]];
    const { source } = repository;
    if (source.kind === "direct") fields.push(["uri", source.uri]);
    else fields.push(["base-uri", source.baseUri], ["channel", source.channel], ["version", formatVersion(source.version)], ["arch", source.arch]);
    fields.push(["priority", repository.priority], ["active", repository.active]);
    const node = Node.create(repository.id);
    for (const [name, value] of fields) {
      const child = Node.create(name);
      child.addArgument(value);
      node.appendNode(child);
    }
    if (repository.publicKey !== undefined) {
      const child = Node.create("public-key");
      child.addArgument(repository.publicKey);
      node.appendNode(child);
    }
    if (repository.mirrors.length > 0) {
      const child = Node.create("mirrors");
      for (const mirror of repository.mirrors) child.addArgument(mirror);
      node.appendNode(child);
    }
    return node;
  });
  return format(new Document(nodes)).replace(/^\t/gm, "    ");
}

/** Writes `/etc/moss/repo.d/<id>.kdl` holding this repository alone. */
export async function saveRepository(root: string, repository: Repository): Promise<string> {
  const file = savedConfigPath(root, "repo", repository.id);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, await renderRepositories([{ ...repository, file: undefined }]));
  return file;
}

/** Removes `/etc/moss/repo.d/<id>.{yaml,kdl}`; the paths that were there. */
export function deleteRepositoryFiles(root: string, id: string): string[] {
  const kdl = savedConfigPath(root, "repo", id);
  const removed: string[] = [];
  for (const file of [kdl, kdl.replace(/\.kdl$/, ".yaml")]) {
    if (fs.existsSync(file)) {
      fs.rmSync(file);
      removed.push(file);
    }
  }
  return removed;
}
