/**
 * The one place lab clients get what they verify the cluster's HTTPS against: pebble's issuing root
 * (.lab/pebble/roots.pem, fetched by `npm run lab -- up`), the CA of the certificates the bootstrap's certificate
 * phase puts on the children. No client in the lab tests, the drill or the benches skips verification (no curl -k,
 * no rejectUnauthorized: false); inside a node, curl verifies with the node's system store (which trusts it too).
 */
import * as fs from "node:fs";
import { labPaths, type LabPaths } from "../lab/config";

/** pebble's root of the running lab; an error saying how to get it when the lab is not up. */
export function clusterCaFile(paths: Pick<LabPaths, "pebbleRoots"> = labPaths()): string {
  if (!fs.existsSync(paths.pebbleRoots))
    throw new Error(`${paths.pebbleRoots} is missing: no lab is up (\`npm run lab -- up\` fetches pebble's root there)`);
  return paths.pebbleRoots;
}

/** curl's arguments to verify the chain against pebble's root. */
export function curlVerify(paths?: Pick<LabPaths, "pebbleRoots">): string[] {
  return ["--cacert", clusterCaFile(paths)];
}
