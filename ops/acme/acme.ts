/**
 * The CA side, with acme-client's lower-level API (not auto(): we place `profile`/`replaces` on the order,
 * check every child before telling the CA, and clean up on every path). The directory and the
 * unauthenticated ARI GET go through acme-client's own axios instance (its retries honour Retry-After on
 * 429/503).
 */
import * as acme from "acme-client";
import { parseRenewalInfo, renewalInfoUrl } from "./ari";
import { leafPem } from "./cert";
import { checkProfile, newOrderPayload, type DirectoryMeta } from "./order";
import type { Window } from "./schedule";

export interface Directory {
  newOrder: string;
  renewalInfo?: string;
  meta?: DirectoryMeta & { termsOfService?: string };
}

export interface IssueRequest {
  names: readonly string[];
  profile?: string;
  /** ARI certID of the certificate this order replaces. */
  replaces?: string;
}

export interface Issued {
  chainPem: string;
  keyPem: string;
}

/** What the agent needs from a CA; the runner's tests give it a fake. */
export interface Ca {
  directory(): Promise<Directory>;
  renewalInfo(certId: string): Promise<{ window: Window; retryAfter?: string; explanationURL?: string }>;
  issue(request: IssueRequest): Promise<Issued>;
  revoke(chainPem: string): Promise<void>;
}

export type Challenge = Parameters<acme.Client["completeChallenge"]>[0];

/** Proves one authorization: puts the answer where the CA looks (and checks it is there), and takes it away. */
export interface ChallengeSolver {
  readonly type: "http-01" | "dns-01";
  prepare(authz: acme.Authorization, challenge: Challenge, keyAuthorization: string): Promise<void>;
  cleanup(authz: acme.Authorization, challenge: Challenge, keyAuthorization: string): Promise<void>;
}

/** The part of acme-client's Client the agent uses (tests give a stub). */
export type AcmeClient = Pick<
  acme.Client,
  | "createAccount"
  | "getAccountUrl"
  | "createOrder"
  | "getAuthorizations"
  | "getChallengeKeyAuthorization"
  | "completeChallenge"
  | "waitForValidStatus"
  | "finalizeOrder"
  | "getCertificate"
  | "revokeCertificate"
>;

export interface AcmeCaOptions {
  directoryUrl: string;
  email: string;
  accountKeyPem: string;
  accountUrl?: string;
  solver: ChallengeSolver;
  log: (event: string, detail: string) => void;
  /** Defaults to acme-client's Client for directoryUrl and the account key. */
  client?: AcmeClient;
  /** Defaults to a GET through acme-client's HTTP client. */
  getJson?: typeof getJson;
}

export async function getJson(url: string): Promise<{ data: unknown; retryAfter?: string }> {
  const resp = await acme.axios.get<unknown>(url, { responseType: "json", timeout: 30_000 });
  const retryAfter = resp.headers["retry-after"];
  return { data: resp.data, retryAfter: typeof retryAfter === "string" ? retryAfter : undefined };
}

export class AcmeCa implements Ca {
  private readonly client: AcmeClient;
  private readonly getJson: typeof getJson;
  private cachedDirectory: Directory | undefined;

  constructor(private readonly o: AcmeCaOptions) {
    // Short polls: the lab's pebble validates at once; Let's Encrypt within seconds.
    this.client =
      o.client ??
      new acme.Client({
        directoryUrl: o.directoryUrl,
        accountKey: o.accountKeyPem,
        accountUrl: o.accountUrl,
        backoffAttempts: 15,
        backoffMin: 1000,
        backoffMax: 10_000,
      });
    this.getJson = o.getJson ?? getJson;
  }

  async directory(): Promise<Directory> {
    if (!this.cachedDirectory) {
      const { data } = await this.getJson(this.o.directoryUrl);
      const d = data as Partial<Directory> | undefined;
      if (!d || typeof d.newOrder !== "string") throw new Error(`${this.o.directoryUrl} is not an ACME directory (no newOrder)`);
      this.cachedDirectory = {
        newOrder: d.newOrder,
        renewalInfo: typeof d.renewalInfo === "string" ? d.renewalInfo : undefined,
        meta: d.meta,
      };
    }
    return this.cachedDirectory;
  }

  async renewalInfo(certId: string): Promise<{ window: Window; retryAfter?: string; explanationURL?: string }> {
    const dir = await this.directory();
    if (!dir.renewalInfo) throw new Error(`${this.o.directoryUrl} offers no renewalInfo`);
    const { data, retryAfter } = await this.getJson(renewalInfoUrl(dir.renewalInfo, certId));
    return { ...parseRenewalInfo(data), retryAfter };
  }

  /** The account (created on first use; the same key finds the same account again). Its URL. */
  async account(): Promise<string> {
    await this.client.createAccount({ termsOfServiceAgreed: true, contact: [`mailto:${this.o.email}`] });
    return this.client.getAccountUrl();
  }

  async issue(r: IssueRequest): Promise<Issued> {
    const dir = await this.directory();
    checkProfile(r.profile, dir.meta, this.o.directoryUrl);
    await this.account();
    const order = await this.createOrder(r, dir);
    await this.authorize(order);
    const [key, csr] = await acme.crypto.createCsr(
      { commonName: r.names[0], altNames: [...r.names] },
      await acme.crypto.createPrivateEcdsaKey(),
    );
    const finalized = await this.client.finalizeOrder(order, csr);
    const chainPem = await this.client.getCertificate(finalized);
    return { chainPem, keyPem: key.toString() };
  }

  /** newOrder with profile/replaces; a CA that refuses `replaces` (already replaced) gets the order without it. */
  private async createOrder(r: IssueRequest, dir: Directory): Promise<acme.Order> {
    const payload = newOrderPayload({
      names: r.names,
      profile: r.profile,
      ariOffered: dir.renewalInfo !== undefined,
      currentCertId: r.replaces,
    });
    try {
      return await this.client.createOrder(payload);
    } catch (e) {
      if (payload.replaces === undefined || !/replace/i.test((e as Error).message)) throw e;
      this.o.log("order", `the CA refused replaces=${payload.replaces} (${(e as Error).message}); ordering without it`);
      const { replaces: _dropped, ...rest } = payload;
      return this.client.createOrder(rest);
    }
  }

  /** Every pending authorization: prepare all, tell the CA, wait for valid; clean up on every path. */
  private async authorize(order: acme.Order): Promise<void> {
    const authzs = (await this.client.getAuthorizations(order)).filter((a) => a.status !== "valid");
    const prepared: { authz: acme.Authorization; challenge: Challenge; keyAuthorization: string }[] = [];
    try {
      for (const authz of authzs) {
        const challenge = authz.challenges.find((c) => c.type === this.o.solver.type);
        if (!challenge)
          throw new Error(
            `the CA offers no ${this.o.solver.type} challenge for ${authz.identifier.value} (it offers ${authz.challenges.map((c) => c.type).join(", ")})`,
          );
        const keyAuthorization = await this.client.getChallengeKeyAuthorization(challenge);
        prepared.push({ authz, challenge, keyAuthorization });
        await this.o.solver.prepare(authz, challenge, keyAuthorization);
        this.o.log("challenge", `${this.o.solver.type} for ${authz.identifier.value} in place`);
      }
      for (const p of prepared) await this.client.completeChallenge(p.challenge);
      for (const p of prepared) {
        await this.client.waitForValidStatus(p.authz);
        this.o.log("challenge", `${p.authz.identifier.value} valid`);
      }
    } finally {
      for (const p of prepared) {
        await this.o.solver
          .cleanup(p.authz, p.challenge, p.keyAuthorization)
          .catch((e: unknown) => this.o.log("cleanup", `${p.authz.identifier.value}: ${(e as Error).message}`));
      }
    }
  }

  async revoke(chainPem: string): Promise<void> {
    await this.account();
    // reason 4: superseded (the next run replaces it).
    await this.client.revokeCertificate(leafPem(chainPem), { reason: 4 });
  }
}
