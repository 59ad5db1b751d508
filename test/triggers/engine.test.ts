/** The trigger engine's pure parts (spec §5.2–§5.5): patterns, trigger files, matching, substitution, order. */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadTriggers, TriggerError, type Trigger } from "../../src/triggers/load.ts";
import { compilePattern, matchPattern, PatternError } from "../../src/triggers/pattern.ts";
import { orderTriggers, planTriggers } from "../../src/triggers/plan.ts";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "moss-trigger-engine-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const matches = (pattern: string, p: string) => matchPattern(compilePattern(pattern), p);

describe("patterns", () => {
  test("* stays within a component, ** crosses them, ? is one character, both ends anchored", () => {
    expect(matches("/usr/lib/*.so", "/usr/lib/libz.so")).toEqual(new Map());
    expect(matches("/usr/lib/*.so", "/usr/lib/x/libz.so")).toBeUndefined();
    expect(matches("/usr/share/fonts/**/*.ttf", "/usr/share/fonts/a/b/c.ttf")).toBeDefined();
    expect(matches("/usr/share/fonts/**/*.ttf", "/usr/share/fonts/c.ttf")).toBeUndefined();
    expect(matches("/usr/bin/?", "/usr/bin/[")).toBeDefined();
    expect(matches("/usr/lib", "/usr/lib/x")).toBeUndefined();
  });

  test("captures are named and nest a pattern; regex characters are literal; \\ escapes", () => {
    expect(matches("/usr/lib/modules/(version:*)/kernel", "/usr/lib/modules/6.1.0-1/kernel")).toEqual(new Map([["version", "6.1.0-1"]]));
    expect(matches("/usr/lib/(lib:lib*).so.(major:*)", "/usr/lib/libz.so.1")).toEqual(new Map([["lib", "libz"], ["major", "1"]]));
    expect(matches("/usr/share/a+b/[x]", "/usr/share/a+b/[x]")).toBeDefined();
    expect(matches("/usr/share/a+b", "/usr/share/aab")).toBeUndefined();
    expect(matches("/usr/share/\\*", "/usr/share/*")).toBeDefined();
    expect(matches("/usr/share/\\*", "/usr/share/x")).toBeUndefined();
  });

  test("a capture without one ':' or with a bad name is refused, naming the pattern", () => {
    expect(() => compilePattern("/usr/(name)")).toThrow(PatternError);
    expect(() => compilePattern("/usr/(a:b:c)")).toThrow("needs exactly one ':'");
    expect(() => compilePattern("/usr/(1x:*)")).toThrow("is not a name");
    expect(() => compilePattern("/usr/(x:*")).toThrow("not closed");
  });
});

function trigger(name: string, extra: Partial<Trigger> = {}): Trigger {
  return { name, description: name, paths: [], handlers: new Map(), file: `${name}.yaml`, ...extra };
}

describe("matching and ordering", () => {
  test("handlers are compiled with captures, deduplicated, runs sorted before deletes", () => {
    const depmod = trigger("depmod", {
      paths: [{ pattern: "/usr/lib/modules/(version:*)/(file:*)", handlers: ["depmod", "clean"] }],
      handlers: new Map([["depmod", { kind: "run", run: "/usr/sbin/depmod", args: ["-a", "$(version)"] }], ["clean", { kind: "delete", paths: ["/usr/lib/modules/stale"] }]]),
    });
    const [run] = planTriggers([depmod], ["/", "/usr", "/usr/lib/modules/6.9.1/modules.dep", "/usr/lib/modules/6.6.7/modules.dep", "/usr/lib/modules/6.9.1/modules.alias"]);
    expect(run!.handlers).toEqual([
      { kind: "run", run: "/usr/sbin/depmod", args: ["-a", "6.6.7"] },
      { kind: "run", run: "/usr/sbin/depmod", args: ["-a", "6.9.1"] },
      { kind: "delete", paths: ["/usr/lib/modules/stale"] },
    ]);
    expect(planTriggers([depmod], ["/usr/bin/x"])).toEqual([]);
  });

  test("before/after order the triggers that matched, through triggers that did not; cycles lose their closing edge; ties by name", () => {
    const a = trigger("a", { after: "c" });
    const b = trigger("b");
    const c = trigger("c", { after: "z" });
    const z = trigger("z", { after: "a" }); // a → c … c after z, z after a: a cycle
    const names = (list: Trigger[]) => list.map((t) => t.name);
    expect(names(orderTriggers([a, b, c], [a, b, c]))).toEqual(["b", "c", "a"]);
    expect(names(orderTriggers([a, b, c, z], [a, b, c, z]))).toHaveLength(4);
    const first = trigger("first", { before: "last" });
    const last = trigger("last");
    const middle = trigger("middle", { after: "first", before: "last" });
    expect(names(orderTriggers([last, middle, first], [last, first]))).toEqual(["first", "last"]);
    expect(names(orderTriggers([last, middle, first], [middle, last, first]))).toEqual(["first", "middle", "last"]);
  });
});

describe("trigger files", () => {
  function tree(name: string, files: Record<string, string>): string {
    const root = path.join(work, name);
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, "usr/share/moss/triggers", file)), { recursive: true });
      fs.writeFileSync(path.join(root, "usr/share/moss/triggers", file), text);
    }
    return root;
  }

  test("YAML and KDL say the same; x.kdl wins over x.yaml; a file that does not parse is skipped with a warning", async () => {
    const yaml = "name: ldconfig\ndescription: cache\nafter: other\npaths:\n  \"/usr/lib/*.so*\":\n    handlers: [ldconfig]\n    type: symlink\nhandlers:\n  ldconfig:\n    run: /usr/sbin/ldconfig\n    args: [\"-X\"]\n";
    const kdl = 'name ldconfig\ndescription cache\nafter other\npaths {\n    "/usr/lib/*.so*" {\n        handlers ldconfig\n        type symlink\n    }\n}\nhandlers {\n    ldconfig {\n        run \"/usr/sbin/ldconfig\"\n        args "-X"\n    }\n}\n';
    const root = tree("formats", { "tx.d/a.yaml": yaml, "tx.d/b.kdl": kdl, "tx.d/b.yaml": "not: [valid", "tx.d/c.yaml": "name: x\n", "sys.yaml": yaml });
    const warnings: string[] = [];
    const loaded = await loadTriggers(root, "tx", (w) => warnings.push(w));
    const shape = (t: Trigger) => ({ name: t.name, description: t.description, after: t.after, paths: t.paths, handlers: [...t.handlers] });
    expect(loaded.map(shape)).toEqual([shape(loaded[0]!), shape(loaded[0]!)]);
    expect(shape(loaded[0]!)).toEqual({ name: "ldconfig", description: "cache", after: "other", paths: [{ pattern: "/usr/lib/*.so*", handlers: ["ldconfig"] }], handlers: [["ldconfig", { kind: "run", run: "/usr/sbin/ldconfig", args: ["-X"] }]] });
    expect(warnings).toEqual([`skipping trigger file ${path.join(root, "usr/share/moss/triggers/tx.d/c.yaml")}: paths is missing`]);
    expect((await loadTriggers(root, "sys", () => {})).map((t) => t.name)).toEqual(["ldconfig"]);
  });

  test("a handler without args is skipped with a warning; a path naming a missing handler fails", async () => {
    const warnings: string[] = [];
    const noArgs = tree("no-args", { "tx.yaml": "name: a\ndescription: a\npaths:\n  /usr/x:\n    handlers: [h]\nhandlers:\n  h:\n    run: /bin/true\n" });
    expect(await loadTriggers(noArgs, "tx", (w) => warnings.push(w))).toEqual([]);
    expect(warnings[0]).toContain("handler h: args must be a list of strings");
    const missing = tree("missing", { "tx.yaml": "name: a\ndescription: a\npaths:\n  /usr/x:\n    handlers: [nope]\nhandlers:\n  h:\n    delete: [/usr/x]\n" });
    await expect(loadTriggers(missing, "tx", () => {})).rejects.toThrow(TriggerError);
    await expect(loadTriggers(missing, "tx", () => {})).rejects.toThrow("missing handler reference in a: nope");
  });
});
