import { describe, expect, test } from "bun:test";
import { compareVersions } from "../../src/boot/version-compare.ts";

describe("compareVersions (the UAPI version format, systemd-boot's order)", () => {
  test("each version of systemd's own ordered list is newer than the one before it", () => {
    const ordered = [
      "~1", "", "ab", "abb", "abc", "0001", "002", "12", "122", "122.9", "123~rc1", "123", "123-a", "123-a.1", "123-a1",
      "123-a1.1", "123-3", "123-3.1", "123^patch1", "123^1", "123.a-1", "123.1-1", "123a-1", "124",
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect({ pair: [ordered[i], ordered[i + 1]], order: Math.sign(compareVersions(ordered[i]!, ordered[i + 1]!)) }).toEqual({ pair: [ordered[i], ordered[i + 1]], order: -1 });
      expect(Math.sign(compareVersions(ordered[i + 1]!, ordered[i]!))).toBe(1);
    }
  });

  test("equal versions, leading zeros and separators that carry no meaning", () => {
    expect(compareVersions("6.1.0", "6.1.0")).toBe(0);
    expect(compareVersions("01.2", "1.2")).toBe(0);
    expect(compareVersions("1_2", "1+2")).toBe(0);
  });

  test("kernel and entry versions sort as systemd-boot sorts them", () => {
    expect(compareVersions("6.19.1-1.desktop", "6.18.13-130.desktop")).toBeGreaterThan(0);
    expect(compareVersions("1.57.0.6.1", "1.9.1.6.9")).toBeGreaterThan(0);
    expect(compareVersions("0.99.0.6.1", "1.2.0.6.1")).toBeLessThan(0);
    expect(compareVersions("257.1", "256.4")).toBeGreaterThan(0);
    expect(compareVersions("258~rc1", "257.9")).toBeGreaterThan(0);
  });
});
