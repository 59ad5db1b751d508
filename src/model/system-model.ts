/**
 * The declarative system model (spec §6): `/etc/moss/system-model.kdl` lists repositories and
 * packages, and `moss sync` converges the root to it; every new state records the model that
 * made it in `usr/lib/system-model.kdl`. Read and edited through @bgotink/kdl, which keeps the
 * admin's comments and spacing wherever moss does not change the text.
 */
import fs from "node:fs";
import path from "node:path";
import { MossError } from "../errors.ts";
import { formatVersion, repositoryFromFields, sanitizeId, type Repository } from "../repository/config.ts";
import { parseDependency } from "../stone/index.ts";

export const SYSTEM_MODEL_FILE = path.join("etc", "moss", "system-model.kdl");
/** Where a state's tree records the model it was made from. */
export const RECORDED_MODEL_FILE = path.join("usr", "lib", "system-model.kdl");

export class SystemModelError extends MossError {
  constructor(file: string, problem: string) {
    super("SYSTEM_MODEL", `${file}: ${problem}`);
    this.name = "SystemModelError";
  }
}

export interface SystemModel {
  /** Where it was read from. */
  file: string;
  text: string;
  disableWarning: boolean;
  repositories: Repository[];
  /** Wanted providers in text form (`name(bash)`, `binary(rg)`), in the file's order. */
  providers: string[];
}

type KdlNode = import("@bgotink/kdl").Node;

/** `bash` → `name(bash)`; `binary(rg)` as written; anything else is not a provider. */
export function modelProvider(nodeName: string): string | undefined {
  const text = nodeName.includes("(") ? nodeName : `name(${nodeName})`;
  try {
    const dependency = parseDependency(text);
    return `${dependency.kind}(${dependency.name})`;
  } catch {
    return undefined;
  }
}

export async function parseSystemModel(text: string, file: string): Promise<SystemModel> {
  const { parse } = await import("@bgotink/kdl");
  let doc;
  try {
    doc = parse(text);
  } catch (error) {
    throw new SystemModelError(file, `parse as kdl document: ${(error as Error).message.split("\n")[0]}`);
  }
  let disableWarning = false;
  const warning = doc.findNodeByName("disable_warning");
  if (warning) {
    const value = warning.getArgument(0);
    if (typeof value !== "boolean") throw new SystemModelError(file, `disable_warning expects #true or #false, got ${JSON.stringify(value)}`);
    disableWarning = value;
  }
  const repositories: Repository[] = [];
  for (const node of doc.findNodeByName("repositories")?.children?.nodes ?? []) repositories.push(modelRepository(node, file));
  const providers: string[] = [];
  for (const node of doc.findNodeByName("packages")?.children?.nodes ?? []) {
    const provider = modelProvider(node.getName());
    if (!provider) throw new SystemModelError(file, `parse package as provider: ${JSON.stringify(node.getName())}`);
    if (!providers.includes(provider)) providers.push(provider);
  }
  return { file, text, disableWarning, repositories, providers };
}

function modelRepository(node: KdlNode, file: string): Repository {
  const id = node.getName();
  const fields: Record<string, unknown> = {};
  for (const child of node.children?.nodes ?? []) fields[child.getName()] = child.getArgument(0);
  const enabled = fields.enabled ?? true;
  if (typeof enabled !== "boolean") throw new SystemModelError(file, `invalid value for repository ${id} enabled, expected boolean got ${JSON.stringify(enabled)}`);
  if (fields.priority === undefined) throw new SystemModelError(file, `missing priority for repository ${id}`);
  // The model says `enabled` where repository files say `active`; a model's repository has no file of its own.
  const { enabled: _, active: __, ...rest } = fields;
  try {
    return { ...repositoryFromFields(id, { ...rest, active: enabled }), file };
  } catch (error) {
    throw new SystemModelError(file, `repository ${(error as Error).message}`);
  }
}

/** The model at `file`, or undefined when there is none. */
export async function readSystemModel(file: string): Promise<SystemModel | undefined> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new SystemModelError(file, (error as Error).message);
  }
  return parseSystemModel(text, file);
}

/** A provider as a model writes it: the bare name for `name(…)`, else the quoted text form. */
function providerNodeName(provider: string): string {
  const match = /^name\((.*)\)$/.exec(provider);
  return match ? match[1]! : provider;
}

/**
 * A model generated from repositories and wanted providers (spec §6.4): repositories in id order,
 * each with description, uri or base-uri, channel and arch only when not the default, version,
 * priority, and `enabled #false` only when disabled; packages in provider text order.
 */
export async function renderGeneratedModel(repositories: readonly Repository[], providers: readonly string[]): Promise<string> {
  const { Document, Node, format } = await import("@bgotink/kdl");
  const child = (name: string, value: string | number | boolean) => {
    const node = Node.create(name);
    node.addArgument(value);
    return node;
  };
  const repositoriesNode = Node.create("repositories");
  for (const repository of [...repositories].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const node = Node.create(sanitizeId(repository.id));
    node.appendNode(child("description", repository.description));
    const { source } = repository;
    if (source.kind === "direct") node.appendNode(child("uri", source.uri));
    else {
      node.appendNode(child("base-uri", source.baseUri));
      if (source.channel !== "main") node.appendNode(child("channel", source.channel));
      node.appendNode(child("version", formatVersion(source.version)));
      if (source.arch !== "x86_64") node.appendNode(child("arch", source.arch));
    }
    node.appendNode(child("priority", repository.priority));
    if (!repository.active) node.appendNode(child("enabled", false));
    repositoriesNode.appendNode(node);
  }
  const packagesNode = Node.create("packages");
  for (const provider of [...new Set(providers)].sort()) packagesNode.appendNode(Node.create(providerNodeName(provider)));
  const text = format(new Document([repositoriesNode, packagesNode])).replace(/^\t+/gm, (tabs) => "    ".repeat(tabs.length));
  return text.endsWith("\n") ? text : `${text}\n`;
}

export interface ExplicitPackage {
  name: string;
  /** Every provider text of the package, its `name(…)` included. */
  providers: readonly string[];
}

/**
 * The model a new state records (spec §6.3). With a model: its text, with every `packages` child
 * that no explicit package provides dropped, and each explicit package that provides none of the
 * model's entries appended after a `// Added by moss` line; everything else kept byte for byte.
 * Without one: a generated model of the enabled repositories and the explicit packages' names.
 */
export async function recordedModel(model: SystemModel | undefined, explicit: readonly ExplicitPackage[], enabled: readonly Repository[]): Promise<string> {
  if (!model) return renderGeneratedModel(enabled, explicit.map((p) => `name(${p.name})`));
  const { parse, format } = await import("@bgotink/kdl");
  const doc = parse(model.text);
  const provided = new Set(explicit.flatMap((p) => p.providers));
  const packages = doc.findNodeByName("packages");
  const kept: string[] = [];
  for (const node of [...(packages?.children?.nodes ?? [])]) {
    const provider = modelProvider(node.getName());
    if (provider && provided.has(provider)) kept.push(provider);
    else packages!.children!.removeNode(node);
  }
  const keptSet = new Set(kept);
  const added = explicit.filter((p) => !p.providers.some((provider) => keptSet.has(provider))).map((p) => p.name);
  if (added.length > 0) {
    const lines = added.map((name) => `    ${/^[\p{L}_][\p{L}\p{N}_.-]*$/u.test(name) ? name : JSON.stringify(name)}`).join("\n");
    if (!packages) {
      doc.appendNode(parse(`${doc.nodes.length > 0 ? "\n" : ""}packages {\n    // Added by moss\n${lines}\n}\n`));
    } else {
      packages.appendNode(parse(`\n    // Added by moss\n${lines}\n`));
    }
  }
  if (!packages && added.length === 0) doc.appendNode(parse(`${doc.nodes.length > 0 ? "\n" : ""}packages {\n}\n`));
  const text = format(doc);
  return text.endsWith("\n") ? text : `${text}\n`;
}
