import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkProfile, newOrderPayload } from "./order";

describe("new-order payload", () => {
  const names = ["www.example.org", "example.org"];
  it("lists the names as dns identifiers, nothing else by default", () => {
    assert.deepEqual(newOrderPayload({ names, ariOffered: false }), {
      identifiers: [
        { type: "dns", value: "www.example.org" },
        { type: "dns", value: "example.org" },
      ],
    });
  });
  it("sends the profile only when configured", () => {
    assert.equal(newOrderPayload({ names, ariOffered: true, profile: "shortlived" }).profile, "shortlived");
    assert.ok(!("profile" in newOrderPayload({ names, ariOffered: true })));
  });
  it("sends replaces only when the CA offers ARI and a certificate is being replaced", () => {
    assert.equal(newOrderPayload({ names, ariOffered: true, currentCertId: "aYhb.AIdl" }).replaces, "aYhb.AIdl");
    assert.ok(!("replaces" in newOrderPayload({ names, ariOffered: false, currentCertId: "aYhb.AIdl" })));
    assert.ok(!("replaces" in newOrderPayload({ names, ariOffered: true })));
  });
});

describe("profile check against the directory's meta.profiles", () => {
  const meta = { profiles: { classic: "…", tlsserver: "…", shortlived: "…" } };
  it("passes an offered profile and no profile at all", () => {
    checkProfile("shortlived", meta, "https://ca/dir");
    checkProfile(undefined, undefined, "https://ca/dir");
  });
  it("refuses a profile the CA does not list, naming the value, the offered ones and the fix", () => {
    assert.throws(
      () => checkProfile("short", meta, "https://ca/dir"),
      /profile = "short": the CA at https:\/\/ca\/dir does not offer it; it offers classic, tlsserver, shortlived\. Set profile/,
    );
    assert.throws(() => checkProfile("classic", {}, "https://ca/dir"), /offers no profiles/);
  });
});
