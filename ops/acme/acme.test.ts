import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type * as acme from "acme-client";
import { AcmeCa, type AcmeClient, type Challenge, type ChallengeSolver } from "./acme";

type Authz = acme.Authorization;

const authz = (name: string, status: Authz["status"], types = ["http-01", "dns-01"]): Authz => ({
  url: `https://ca/authz/${name}`,
  identifier: { type: "dns", value: name },
  status,
  challenges: types.map(
    (type) => ({ type, url: `https://ca/chall/${name}/${type}`, status: "pending", token: `tok-${name}` }) as Challenge,
  ),
});

/** acme-client's Client as the agent uses it, recording calls; `failOn` makes one step throw. */
function stubClient(authzs: Authz[], failOn: Partial<Record<keyof AcmeClient, string>> = {}) {
  const calls: string[] = [];
  const step = (name: keyof AcmeClient, detail = "") => {
    calls.push(`${name}${detail}`);
    if (failOn[name]) throw new Error(failOn[name]);
  };
  const order = {
    url: "https://ca/order/1",
    status: "pending",
    identifiers: [],
    authorizations: authzs.map((a) => a.url),
    finalize: "https://ca/finalize/1",
  } as acme.Order;
  const client: AcmeClient = {
    createAccount: async () => (step("createAccount"), { status: "valid", orders: "" }),
    getAccountUrl: () => "https://ca/acct/1",
    createOrder: async (data) => {
      step("createOrder", ` ${JSON.stringify(data)}`);
      return order;
    },
    getAuthorizations: async () => (step("getAuthorizations"), authzs),
    getChallengeKeyAuthorization: async (c) => `${"token" in c ? c.token : ""}.thumb`,
    completeChallenge: async (c) => (step("completeChallenge", ` ${c.url}`), c),
    waitForValidStatus: async <T>(item: T) => (step("waitForValidStatus"), item),
    finalizeOrder: async (o) => (step("finalizeOrder"), o),
    getCertificate: async () => (step("getCertificate"), "-----BEGIN CERTIFICATE-----\n"),
    revokeCertificate: async () => void step("revokeCertificate"),
  };
  return { client, calls };
}

function recordingSolver(type: "http-01" | "dns-01" = "http-01") {
  const events: string[] = [];
  const solver: ChallengeSolver = {
    type,
    prepare: async (a, _c, k) => void events.push(`prepare ${a.identifier.value} ${k}`),
    cleanup: async (a) => void events.push(`cleanup ${a.identifier.value}`),
  };
  return { solver, events };
}

const directory = {
  newOrder: "https://ca/new-order",
  renewalInfo: "https://ca/renewal-info",
  meta: { profiles: { classic: "", shortlived: "" } },
};
const fetched: string[] = [];
const ca = (client: AcmeClient, solver: ChallengeSolver, log: string[] = [], dir: object = directory) =>
  new AcmeCa({
    directoryUrl: "https://ca/dir",
    email: "ops@django-ha.dev",
    accountKeyPem: "unused with a stub client",
    solver,
    log: (e, d) => log.push(`${e}: ${d}`),
    client,
    getJson: async (url) => (
      fetched.push(url),
      {
        data: url.endsWith("/dir") ? dir : { suggestedWindow: { start: "2027-04-01T00:00:00Z", end: "2027-04-02T00:00:00Z" } },
        retryAfter: "3600",
      }
    ),
  });

describe("AcmeCa over acme-client", () => {
  it("orders with profile and replaces, proves each pending authorization, then finalizes", async () => {
    const { client, calls } = stubClient([authz("www.django-ha.dev", "pending"), authz("django-ha.dev", "valid")]);
    const { solver, events } = recordingSolver();
    await ca(client, solver).issue({ names: ["www.django-ha.dev", "django-ha.dev"], profile: "shortlived", replaces: "aYhb.AIdl" });
    assert.deepEqual(calls, [
      "createAccount",
      'createOrder {"identifiers":[{"type":"dns","value":"www.django-ha.dev"},{"type":"dns","value":"django-ha.dev"}],"profile":"shortlived","replaces":"aYhb.AIdl"}',
      "getAuthorizations",
      "completeChallenge https://ca/chall/www.django-ha.dev/http-01",
      "waitForValidStatus",
      "finalizeOrder",
      "getCertificate",
    ]);
    assert.deepEqual(events, ["prepare www.django-ha.dev tok-www.django-ha.dev.thumb", "cleanup www.django-ha.dev"]);
  });

  it("refuses a profile the directory does not list before it contacts the CA's account or order endpoints", async () => {
    const { client, calls } = stubClient([]);
    await assert.rejects(
      ca(client, recordingSolver().solver).issue({ names: ["a.django-ha.dev"], profile: "tlsclient" }),
      /profile = "tlsclient": .* it offers classic, shortlived/,
    );
    assert.deepEqual(calls, []);
  });

  it("orders again without replaces when the CA refuses it (already replaced), and says so", async () => {
    const { client, calls } = stubClient([]);
    let first = true;
    const refusing: AcmeClient = {
      ...client,
      createOrder: async (data) => {
        if (first) {
          first = false;
          throw new Error("cannot indicate an order replaces certificate with serial 0a, which already has a replacement order");
        }
        return client.createOrder(data);
      },
    };
    const log: string[] = [];
    await ca(refusing, recordingSolver().solver, log).issue({ names: ["a.django-ha.dev"], replaces: "x.y" });
    assert.deepEqual(
      calls.filter((c) => c.startsWith("createOrder")),
      ['createOrder {"identifiers":[{"type":"dns","value":"a.django-ha.dev"}]}'],
    );
    assert.match(log.join("\n"), /the CA refused replaces=x\.y .*ordering without it/);
  });

  it("cleans up every prepared challenge when validation fails, and finalizes nothing", async () => {
    const { client, calls } = stubClient([authz("a.django-ha.dev", "pending"), authz("b.django-ha.dev", "pending")], {
      waitForValidStatus: "Invalid response from http://a.django-ha.dev/: 404",
    });
    const { solver, events } = recordingSolver();
    await assert.rejects(ca(client, solver).issue({ names: ["a.django-ha.dev", "b.django-ha.dev"] }), /Invalid response .* 404/);
    assert.deepEqual(
      events.filter((e) => e.startsWith("cleanup")),
      ["cleanup a.django-ha.dev", "cleanup b.django-ha.dev"],
    );
    assert.ok(!calls.includes("finalizeOrder"));
  });

  it("a self-check that fails stops before the CA is told, and what was prepared is removed", async () => {
    const { client, calls } = stubClient([authz("a.django-ha.dev", "pending"), authz("b.django-ha.dev", "pending")]);
    const events: string[] = [];
    const solver: ChallengeSolver = {
      type: "http-01",
      prepare: async (a) => {
        events.push(`prepare ${a.identifier.value}`);
        if (a.identifier.value === "b.django-ha.dev") throw new Error("http-01 self-check: child-2 answered 404");
      },
      cleanup: async (a) => void events.push(`cleanup ${a.identifier.value}`),
    };
    await assert.rejects(ca(client, solver).issue({ names: ["a.django-ha.dev", "b.django-ha.dev"] }), /child-2 answered 404/);
    assert.deepEqual(events, ["prepare a.django-ha.dev", "prepare b.django-ha.dev", "cleanup a.django-ha.dev", "cleanup b.django-ha.dev"]);
    assert.ok(!calls.some((c) => c.startsWith("completeChallenge")), "the CA was not told");
  });

  it("names the challenge types offered when the configured one is missing", async () => {
    const { client } = stubClient([authz("*.django-ha.dev", "pending", ["dns-01"])]);
    await assert.rejects(
      ca(client, recordingSolver("http-01").solver).issue({ names: ["*.django-ha.dev"] }),
      /no http-01 challenge for \*\.django-ha\.dev \(it offers dns-01\)/,
    );
  });

  it("reads ARI at <renewalInfo>/<certID> with Retry-After, and says when the CA has none", async () => {
    const { client } = stubClient([]);
    fetched.length = 0;
    const r = await ca(client, recordingSolver().solver).renewalInfo("aYhb.AIdl");
    assert.deepEqual(fetched, ["https://ca/dir", "https://ca/renewal-info/aYhb.AIdl"]);
    assert.deepEqual(r, {
      window: { start: Date.parse("2027-04-01T00:00:00Z"), end: Date.parse("2027-04-02T00:00:00Z") },
      explanationURL: undefined,
      retryAfter: "3600",
    });
    await assert.rejects(ca(client, recordingSolver().solver, [], { newOrder: "x" }).renewalInfo("a.b"), /offers no renewalInfo/);
  });
});
