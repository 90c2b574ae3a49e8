/**
 * Preload (`node --import tsx --import ./test/record-loads.ts script.ts …`) that writes, when the process exits,
 * every CommonJS module it loaded (absolute paths, one a line) to the file named by DJANGO_HA_RECORD_LOADS.
 * tsx runs this CommonJS project's TypeScript through require(), and every package the scripts use ships
 * CommonJS, so `require.cache` holds everything a run loaded, whether it came in by import or by require.
 */
import * as fs from "node:fs";

const out = process.env.DJANGO_HA_RECORD_LOADS;
if (out) {
  process.on("exit", () => {
    fs.writeFileSync(out, Object.keys(require.cache).sort().join("\n") + "\n");
  });
}
