import { describe, expect, test } from "bun:test";
import { rootSourceForLegacy } from "../../src/repository/legacy.ts";

describe("legacy index URLs (spec §1.6)", () => {
  test("the fixed hosts' volatile and unstable index paths stand for stream/<name> on channel main", () => {
    expect(rootSourceForLegacy("https://cdn.aerynos.dev/unstable/x86_64/stone.index")).toEqual({
      kind: "root-index", baseUri: "https://cdn.aerynos.dev/", channel: "main", version: { scope: "stream", id: "unstable" }, arch: "x86_64",
    });
    expect(rootSourceForLegacy("https://build.aerynos.dev/stream/volatile/x86_64/stone.index")?.version).toEqual({ scope: "stream", id: "volatile" });
    expect(rootSourceForLegacy("http://dev.serpentos.com/volatile/x86_64/stone.index")?.baseUri).toBe("http://dev.serpentos.com/");
  });

  test("any other host or path is not legacy", () => {
    expect(rootSourceForLegacy("https://example.com/unstable/x86_64/stone.index")).toBeUndefined();
    expect(rootSourceForLegacy("https://cdn.aerynos.dev/unstable/aarch64/stone.index")).toBeUndefined();
    expect(rootSourceForLegacy("https://cdn.aerynos.dev/unstable/x86_64/stone.index/")).toBeUndefined();
    expect(rootSourceForLegacy("file:///srv/unstable/x86_64/stone.index")).toBeUndefined();
  });
});
