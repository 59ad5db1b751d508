/** Open the root named by the global options for one command, and always close it again. */
import { openSession, type Session } from "../client/session.ts";
import type { GlobalOptions } from "./argv.ts";

export async function withSession<T>(globals: GlobalOptions, write: boolean, work: (session: Session) => Promise<T> | T): Promise<T> {
  const session = await openSession({ root: globals.directory, cacheDir: globals.cache, write, verbose: globals.verbose });
  try {
    return await work(session);
  } finally {
    session.close();
  }
}
