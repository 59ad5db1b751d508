import { describe, expect, test } from "bun:test";
import { parseArgv } from "../../src/cli/argv.ts";
import { UsageError } from "../../src/errors.ts";

describe("global options (spec §4.1)", () => {
  test("are taken from before and after the sub-command", () => {
    const { globals, rest } = parseArgv(["-D", "/sysroot", "state", "activate", "-y", "--cache", "/c", "3", "-v"]);
    expect(globals).toMatchObject({ directory: "/sysroot", cache: "/c", yes: true, verbose: true, version: false });
    expect(rest).toEqual(["state", "activate", "3"]);
  });

  test("accept the attached and = forms and bundled short flags", () => {
    expect(parseArgv(["-D/root", "x"]).globals.directory).toBe("/root");
    expect(parseArgv(["--directory=/r2", "x"]).globals.directory).toBe("/r2");
    expect(parseArgv(["--log", "debug:json", "x"]).globals.log).toBe("debug:json");
    expect(parseArgv(["-yV", "x"]).globals).toMatchObject({ yes: true, version: true });
  });

  test("a value option without its value is a usage error", () => {
    expect(() => parseArgv(["inspect", "-D"])).toThrow(UsageError);
    expect(() => parseArgv(["--cache", "--verbose"])).toThrow(UsageError);
  });

  test("everything after -- is left alone", () => {
    expect(parseArgv(["inspect", "--", "-v", "ls"]).rest).toEqual(["inspect", "--", "-v", "ls"]);
  });
});

describe("aliases rewrite the sub-command position only", () => {
  test("two-word and one-word aliases", () => {
    expect(parseArgv(["li"]).rest).toEqual(["list", "installed"]);
    expect(parseArgv(["-D", "/r", "ur", "main"]).rest).toEqual(["repo", "update", "main"]);
    expect(parseArgv(["it", "nano"]).rest).toEqual(["install", "nano"]);
  });

  test("an argument that happens to be an alias stays what it is (Rust rewrote it)", () => {
    expect(parseArgv(["install", "ls", "rm"]).rest).toEqual(["install", "ls", "rm"]);
  });

  test("a value of a global option is never taken for the sub-command", () => {
    expect(parseArgv(["-D", "ls", "inspect", "x"]).rest).toEqual(["inspect", "x"]);
  });
});
