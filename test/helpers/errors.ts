/** Expecting a typed error from a call. */

/**
 * What `work` threw, which must be an instance of `type`: anything else it throws is rethrown
 * as is, and throwing nothing fails the test.
 */
export function thrownBy<E extends Error>(type: abstract new (...args: never[]) => E, work: () => unknown): E {
  try {
    work();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}
