/**
 * The candidate sets the install and remove use-cases resolve over: the active state's packages
 * (metadata from the `install` DB) and local `.stone` files given on the command line. A local
 * file's package id is its meta id (see readLocalStone); `sync` recognises the same build met
 * later through a repository, where its id is the file's SHA-256.
 */
import fs from "node:fs";
import path from "node:path";
import type { Databases } from "../db/index.ts";
import { MossError } from "../errors.ts";
import type { Installation } from "../installation/index.ts";
import { CandidateSource, type Candidate } from "../registry/candidates.ts";
import { metaId, packageFromMeta, PayloadKind, StoneReader } from "../stone/index.ts";

/** The active state's packages, with their explicit flags. */
export function installedSource(installation: Installation, dbs: Databases): CandidateSource {
  const active = installation.activeStateId;
  if (active === undefined) return new CandidateSource("installed", []);
  const state = dbs.state.get(active);
  if (!state) return new CandidateSource("installed", []); // a .stateID with no row: treat as none (spec §3.1)
  const metas = new Map(dbs.install.getMany(state.selections.map((s) => s.packageId)).map((m) => [m.id, m]));
  const candidates: Candidate[] = [];
  for (const selection of state.selections) {
    const meta = metas.get(selection.packageId);
    if (!meta) throw new MossError("NO_METADATA", `No metadata found for package "${selection.packageId}"`);
    candidates.push({ id: selection.packageId, meta, source: "installed", explicit: selection.explicit });
  }
  return new CandidateSource("installed", candidates);
}

/** A command-line argument that names a local package file rather than a package. */
export function isStonePath(argument: string): boolean {
  return argument.endsWith(".stone") || argument.includes("/");
}

export async function readLocalStone(file: string): Promise<Candidate> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw new MossError("NO_SUCH_FILE", `${file}: no such file`);
  const meta = (() => {
    using reader = StoneReader.open(absolute);
    if (reader.header.fileType !== 1) throw new MossError("NOT_A_PACKAGE", `${file}: not a binary package (stone file type ${reader.header.fileType})`);
    const metas = reader.records(PayloadKind.Meta).metas;
    if (metas.length !== 1) throw new MossError("NOT_A_PACKAGE", `${file}: a binary package has exactly one meta payload, this has ${metas.length}`);
    return packageFromMeta(metas[0]!, { file: absolute, payload: "meta" });
  })();
  // The package id of a local file is its meta id, as Rust's local-file plugin names it (spec
  // §9 item 34); a repository package's is the SHA-256 its index gives. Hashing the file here
  // would cost ~0.8 s per 300 MB for an id nothing else needs.
  const size = fs.statSync(absolute).size;
  return { id: metaId(meta), source: "local", path: absolute, meta: { ...meta, uri: `file://${absolute}`, downloadSize: size } };
}
