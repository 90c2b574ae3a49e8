/** The two ways the agent proves control of a name, as ChallengeSolvers for AcmeCa. */
import type { Authorization } from "acme-client";
import type { DnsOperations } from "../dns/types";
import type { Challenge, ChallengeSolver } from "./acme";
import { challengeName, TxtChallenges, waitForTxt, type PropagationOptions } from "./dns01";
import { type Http01Options, prepareHttp01, removeHttp01 } from "./http01";

function tokenOf(challenge: Challenge): string {
  if (!("token" in challenge) || typeof challenge.token !== "string") throw new Error(`${challenge.type} challenge without a token`);
  return challenge.token;
}

export function http01Solver(o: Http01Options): ChallengeSolver {
  return {
    type: "http-01",
    prepare: (authz: Authorization, challenge: Challenge, keyAuthorization: string) =>
      prepareHttp01(o, authz.identifier.value, tokenOf(challenge), keyAuthorization),
    cleanup: async (_authz: Authorization, challenge: Challenge) => removeHttp01(o.webroot, tokenOf(challenge)),
  };
}

export interface Dns01Options {
  dns: DnsOperations;
  /** The servers to wait on for a challenge name (the zone's authoritative servers). */
  serversFor: (fqdn: string) => Promise<string[]>;
  propagation: Omit<PropagationOptions, "servers">;
}

export function dns01Solver(o: Dns01Options): ChallengeSolver {
  const txt = new TxtChallenges(o.dns);
  return {
    type: "dns-01",
    prepare: async (authz: Authorization, _challenge: Challenge, keyAuthorization: string) => {
      const fqdn = challengeName(authz.identifier.value);
      const values = await txt.add(fqdn, keyAuthorization);
      await waitForTxt(fqdn, values, { ...o.propagation, servers: await o.serversFor(fqdn) });
    },
    cleanup: (authz: Authorization, _challenge: Challenge, keyAuthorization: string) =>
      txt.remove(challengeName(authz.identifier.value), keyAuthorization),
  };
}
