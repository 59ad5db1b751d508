/** Child process for the concurrency tests: `bun unpack-child.ts STONE ASSETS TEMP ROUNDS` unpacks STONE ROUNDS times. */
import { unpackToStore } from "../../src/store/index.ts";

const [stone, assetsDir, tempDir, rounds = "1"] = process.argv.slice(2) as [string, string, string, string?];
let written = 0;
for (let i = 0; i < Number(rounds); i++) written += (await unpackToStore(stone, { assetsDir, tempDir })).written;
console.log(JSON.stringify({ written }));
