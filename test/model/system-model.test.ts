/** system-model.kdl (spec §6.2–§6.4): parsing, its errors, generated models, and the model a state records. */
import { describe, expect, test } from "bun:test";
import { modelProvider, parseSystemModel, recordedModel, renderGeneratedModel, SystemModelError } from "../../src/model/system-model.ts";

const SPEC_EXAMPLE = `// Workstation model
disable_warning #true

repositories {
    unstable {
        description "AerynOS unstable stream"
        base-uri "https://build.aerynos.dev/"
        version "stream/unstable"
        priority 0
    }
    local {
        description "packages I build myself"
        uri "file:///home/me/repo/stone.index"
        priority 100
        enabled #false
    }
}

packages {
    bash
    firefox {
        why "daily browser"
    }
    "binary(rg)"
    "pkgconfig(zlib)"
}
`;

async function errorOf(text: string): Promise<string> {
  try {
    await parseSystemModel(text, "m.kdl");
  } catch (error) {
    expect(error).toBeInstanceOf(SystemModelError);
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("parseSystemModel", () => {
  test("the spec's example: repositories (enabled → active), providers in text form, the warning switch", async () => {
    const model = await parseSystemModel(SPEC_EXAMPLE, "m.kdl");
    expect(model.disableWarning).toBe(true);
    expect(model.providers).toEqual(["name(bash)", "name(firefox)", "binary(rg)", "pkgconfig(zlib)"]);
    expect(model.repositories.map((r) => ({ id: r.id, priority: r.priority, active: r.active, source: r.source }))).toEqual([
      { id: "unstable", priority: 0, active: true, source: { kind: "root-index", baseUri: "https://build.aerynos.dev/", channel: "main", version: { scope: "stream", id: "unstable" }, arch: "x86_64" } },
      { id: "local", priority: 100, active: false, source: { kind: "direct", uri: "file:///home/me/repo/stone.index" } },
    ]);
  });

  test("no repositories or packages node means empty sets", async () => {
    const model = await parseSystemModel("// nothing\n", "m.kdl");
    expect([model.repositories, model.providers, model.disableWarning]).toEqual([[], [], false]);
  });

  test("errors name the file and what is wrong", async () => {
    expect(await errorOf("packages {")).toStartWith("m.kdl: parse as kdl document");
    expect(await errorOf("repositories {\n    r {\n        uri \"file:///x\"\n    }\n}")).toBe("m.kdl: missing priority for repository r");
    expect(await errorOf("repositories {\n    r {\n        uri \"file:///x\"\n        priority 1\n        enabled yes\n    }\n}")).toBe('m.kdl: invalid value for repository r enabled, expected boolean got "yes"');
    expect(await errorOf('packages {\n    "binary(rg"\n}')).toBe('m.kdl: parse package as provider: "binary(rg"');
    expect(await errorOf("disable_warning 1")).toBe("m.kdl: disable_warning expects #true or #false, got 1");
  });

  test("modelProvider: bare names are name(), kind(name) as written, anything else none", () => {
    expect(modelProvider("nano")).toBe("name(nano)");
    expect(modelProvider("soname(libz.so.1(x86_64))")).toBe("soname(libz.so.1(x86_64))");
    expect(modelProvider("what(")).toBeUndefined();
  });
});

describe("generated and recorded models", () => {
  test("a generated model orders repositories by id and packages by text form, and drops default fields", async () => {
    const { repositories } = await parseSystemModel(SPEC_EXAMPLE, "m.kdl");
    expect(await renderGeneratedModel(repositories, ["name(nano)", "binary(rg)", "name(bash)"])).toBe(`repositories {
    local {
        description "packages I build myself"
        uri "file:///home/me/repo/stone.index"
        priority 100
        enabled #false
    }
    unstable {
        description "AerynOS unstable stream"
        base-uri "https://build.aerynos.dev/"
        version "stream/unstable"
        priority 0
    }
}
packages {
    "binary(rg)"
    bash
    nano
}
`);
    expect(await renderGeneratedModel([], [])).toBe("repositories\npackages\n");
  });

  test("a recorded model keeps the text, drops entries no explicit package provides, and adds the others after a comment", async () => {
    const model = await parseSystemModel(SPEC_EXAMPLE, "m.kdl");
    const recorded = await recordedModel(model, [
      { name: "bash", providers: ["name(bash)"] },
      { name: "ripgrep", providers: ["name(ripgrep)", "binary(rg)"] },
      { name: "vim", providers: ["name(vim)"] },
    ], []);
    expect(recorded).toBe(SPEC_EXAMPLE.replace('    firefox {\n        why "daily browser"\n    }\n', "").replace('    "pkgconfig(zlib)"\n', "\n    // Added by moss\n    vim\n"));
    // Without a packages node, one is appended.
    const bare = await parseSystemModel("// mine\nrepositories {\n}\n", "m.kdl");
    expect(await recordedModel(bare, [{ name: "nano", providers: ["name(nano)"] }], [])).toBe("// mine\nrepositories {\n}\n\npackages {\n    // Added by moss\n    nano\n}\n");
  });
});
