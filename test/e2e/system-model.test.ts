/**
 * The declarative system model through the real binary (spec §6): `moss sync` makes the root
 * exactly the model's packages and their dependencies from the model's repositories, marks the
 * listed ones explicit, records the model in the new state, `state export` gives it back, and
 * `sync --import` of an exported model builds the same package set on another root.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseSystemModel } from "../../src/model/system-model.ts";
import { moss, tempDir } from "../helpers/moss.ts";
import { tinyStone } from "../helpers/packages.ts";

const work = tempDir("moss-model-");
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const repo = path.join(work, "repo");
let extra: string;

beforeAll(async () => {
  fs.mkdirSync(repo);
  await tinyStone(repo, { name: "app", depends: ["name(libapp)"], files: { "bin/app": "app" } });
  await tinyStone(repo, { name: "libapp", files: { "lib/libapp.so": "lib" } });
  await tinyStone(repo, { name: "ripgrep", provides: ["binary(rg)"], files: { "bin/rg": "rg" } });
  await tinyStone(repo, { name: "unwanted", files: { "share/unwanted": "x" } });
  const indexed = moss(["index", repo]);
  if (indexed.status !== 0) throw new Error(indexed.stdout);
  extra = await tinyStone(work, { name: "local-only", files: { "share/local-only": "x" } });
});

function model(packages: string): string {
  return `// What this machine is for
disable_warning #true

repositories {
    local {
        description "the test's packages"
        uri "file://${repo}/stone.index"
        priority 10
    }
}

packages {
${packages}
}
`;
}

function newRoot(name: string, modelText?: string): string {
  const root = path.join(work, name);
  fs.mkdirSync(path.join(root, "etc", "moss"), { recursive: true });
  if (modelText !== undefined) fs.writeFileSync(path.join(root, "etc", "moss", "system-model.kdl"), modelText);
  return root;
}

function installed(root: string): { name: string; explicit: boolean }[] {
  const list = moss(["-D", root, "list", "installed", "--json"]);
  expect(list.status).toBe(0);
  return (JSON.parse(list.stdout) as { name: string; explicit: boolean }[]).map(({ name, explicit }) => ({ name, explicit })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

describe("moss sync with a system model", () => {
  test("installs exactly the model's closure, removes the rest, marks what it lists explicit, and records the model", async () => {
    const root = newRoot("converge");
    // Before the model: a package the model does not list.
    expect(moss(["-D", root, "-y", "install", extra]).status).toBe(0);
    const text = model('    app {\n        why "the thing I use"\n    }\n    "binary(rg)"');
    fs.writeFileSync(path.join(root, "etc", "moss", "system-model.kdl"), text);

    const synced = moss(["-D", root, "-y", "sync", "-u"]);
    expect(synced.status).toBe(0);
    expect(synced.stdout).toContain("Refreshed local\n");
    expect(synced.stdout).toContain("The following orphaned packages will be removed: \n\nlocal-only");
    expect(installed(root)).toEqual([
      { name: "app", explicit: true },
      { name: "libapp", explicit: false },
      { name: "ripgrep", explicit: true },
    ]);
    // The model is recorded in the new state as it was written: comments, the why, the quoting.
    expect(fs.readFileSync(path.join(root, "usr", "lib", "system-model.kdl"), "utf8")).toBe(text);
    // state export gives it back, and it parses to the same model.
    const exported = moss(["-D", root, "state", "export"]);
    expect(exported.stdout).toBe(`${text}\n`);
    const [again, original] = await Promise.all([parseSystemModel(exported.stdout, "exported"), parseSystemModel(text, "written")]);
    const comparable = (m: typeof again) => ({ ...m, file: "", text: "", repositories: m.repositories.map((r) => ({ ...r, file: "" })) });
    expect(comparable(again)).toEqual(comparable(original));
    // A second sync has nothing to do.
    expect(moss(["-D", root, "-y", "sync"]).stdout).toBe("No packages to sync\n");
    // The model's repositories are the root's; repo files are not read and repo add is refused.
    expect(moss(["-D", root, "repo", "list"]).stdout).toBe(` - local = file://${repo}/stone.index [10]\n`);
    expect(moss(["-D", root, "repo", "add", "x", "file:///x/stone.index"]).stdout).toContain("not allowed with system-model enabled");
  });

  test("install on top of a model is recorded after a `// Added by moss` line; a package the model names that no repository has is named", async () => {
    const root = newRoot("added", model("    app"));
    expect(moss(["-D", root, "-y", "sync", "-u"]).status).toBe(0);
    expect(moss(["-D", root, "-y", "install", "ripgrep"]).status).toBe(0);
    expect(fs.readFileSync(path.join(root, "usr", "lib", "system-model.kdl"), "utf8")).toBe(model("    app\n\n    // Added by moss\n    ripgrep"));
    // The next sync follows the model again: ripgrep goes.
    expect(moss(["-D", root, "-y", "sync"]).stdout).toContain("The following orphaned packages will be removed: \n\nripgrep");

    fs.writeFileSync(path.join(root, "etc", "moss", "system-model.kdl"), model("    app\n    nosuchthing"));
    const missing = moss(["-D", root, "-y", "sync"]);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain("Error: Package defined in system-model does not exist in any repository: name(nosuchthing)");
  });

  test("a model that does not parse stops every command, naming the file", () => {
    const root = newRoot("broken", "packages {\n    app\n");
    const listed = moss(["-D", root, "list", "installed"]);
    expect(listed.status).toBe(1);
    expect(listed.stdout).toStartWith(`Error: ${path.join(root, "etc", "moss", "system-model.kdl")}: parse as kdl document`);
  });

  test("without disable_warning, every command says the model is active (on stderr)", () => {
    const root = newRoot("notice", model("    app").replace("disable_warning #true\n", ""));
    const listed = moss(["-D", root, "state", "list"]);
    expect(listed.status).toBe(0);
    expect(listed.stderr).toStartWith(`INFO: "${path.join(root, "etc", "moss", "system-model.kdl")}" is present & therefore active.\nHence:\n`);
  });
});

describe("moss state export and sync --import", () => {
  test("an exported model parses to the same model; imported on another root it gives the same package set", async () => {
    // A root without a model: the state records a generated one.
    const first = newRoot("export-src");
    expect(moss(["-D", first, "repo", "add", "local", `file://${repo}/stone.index`, "-p", "10"]).status).toBe(0);
    expect(moss(["-D", first, "-y", "install", "app", "ripgrep"]).status).toBe(0);
    const exported = moss(["-D", first, "state", "export"]);
    expect(exported.status).toBe(0);
    expect(exported.stdout).toBe(`repositories {\n    local {\n        description ...\n        uri "file://${repo}/stone.index"\n        priority 10\n    }\n}\npackages {\n    app\n    ripgrep\n}\n\n`);
    const parsed = await parseSystemModel(exported.stdout, "exported");
    expect(parsed.providers).toEqual(["name(app)", "name(ripgrep)"]);
    expect(parsed.repositories.map((r) => [r.id, r.priority, r.active])).toEqual([["local", 10, true]]);

    // -o into a directory names the file after the host and the state.
    const out = path.join(work, "exports");
    fs.mkdirSync(out);
    const written = moss(["-D", first, "state", "export", "1", "-o", out]);
    expect(written.status).toBe(0);
    const file = fs.readdirSync(out)[0]!;
    expect(file).toMatch(/^system-model-(.+-)?fstxn-1\.kdl$/);
    expect(written.stdout).toBe(`Exported to ${JSON.stringify(path.join(out, file))}\n`);
    expect(fs.readFileSync(path.join(out, file), "utf8")).toBe(exported.stdout.slice(0, -1));

    const second = newRoot("import-dst");
    // Without -u the model's repository is empty on a new root: the error says so, and nothing is made.
    const unrefreshed = moss(["-D", second, "-y", "sync", "--import", path.join(out, file)]);
    expect(unrefreshed.status).toBe(1);
    expect(unrefreshed.stdout).toBe(
      `Error: Package defined in system-model does not exist in any repository: name(app) (${path.join(out, file)}): the repository local has never been refreshed (\`moss sync -u\` refreshes first)\n`,
    );
    expect(fs.existsSync(path.join(second, "usr", ".stateID"))).toBe(false);
    const imported = moss(["-D", second, "-y", "sync", "-u", "--import", path.join(out, file)]);
    expect(imported.status).toBe(0);
    expect(installed(second)).toEqual(installed(first));
    // /etc/moss/system-model.kdl is not made by an import; a missing file is named.
    expect(fs.existsSync(path.join(second, "etc", "moss", "system-model.kdl"))).toBe(false);
    const missing = moss(["-D", second, "-y", "sync", "--import", path.join(work, "nope.kdl")]);
    expect(missing.stdout).toBe(`Error: system model doesn't exist at ${JSON.stringify(path.join(work, "nope.kdl"))}\n`);
  });
});
