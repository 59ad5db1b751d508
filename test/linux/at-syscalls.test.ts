/** writeCString: the NUL-terminated UTF-8 the *at calls and the blit's shared pool are fed. */
import { expect, test } from "bun:test";
import { writeCString } from "../../src/linux/at-syscalls.ts";

const decode = (bytes: Uint8Array, from: number, end: number) => new TextDecoder().decode(bytes.subarray(from, end - 1));

test("ASCII and non-ASCII text is written as UTF-8 with a NUL, and the offset after it comes back", () => {
  const buffer = new Uint8Array(64).fill(0xee);
  const end = writeCString("usr/lib", buffer, 3);
  expect(end).toBe(3 + 7 + 1);
  expect(decode(buffer, 3, end)).toBe("usr/lib");
  expect(buffer[end - 1]).toBe(0);
  const next = writeCString("café-😀", buffer, end);
  expect(next).toBe(end + Buffer.byteLength("café-😀") + 1);
  expect(decode(buffer, end, next)).toBe("café-😀");
  expect(buffer[next - 1]).toBe(0);
});

test("text that does not fit below the limit is refused, never cut short", () => {
  const buffer = new Uint8Array(16).fill(0xee);
  expect(writeCString("abcd", buffer, 0, 5)).toBe(5); // 4 bytes and the NUL: exactly fits
  expect(writeCString("abcde", buffer, 0, 5)).toBe(-1);
  expect(writeCString("éé", buffer, 0, 4)).toBe(-1); // 4 bytes of UTF-8 leave no room for the NUL
  expect(writeCString("éé", buffer, 0, 5)).toBe(5);
  expect(writeCString("x", buffer, 16)).toBe(-1);
});
