import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { showCommand } from "../ops/process";
import { bridgeCommands, namespaceCommands, netnsName, nftRuleset, parseLabLinks, parseLabNetns, vethName } from "./net";

describe("lab network commands", () => {
  it("bridge: labbr0 with the host address", () => {
    assert.deepEqual(bridgeCommands().map(showCommand), [
      "ip link add labbr0 type bridge",
      "ip addr add 10.231.0.1/24 dev labbr0",
      "ip link set labbr0 up",
    ]);
  });
  it("node namespace: veth into the bridge, static address, no default route", () => {
    const cmds = namespaceCommands("lab-db-1", "10.231.0.11").map(showCommand);
    assert.deepEqual(cmds, [
      "ip netns add lab-lab-db-1",
      "ip link add vh-lab-db-1 type veth peer name eth0 netns lab-lab-db-1",
      "ip link set vh-lab-db-1 master labbr0 up",
      "ip -n lab-lab-db-1 link set lo up",
      "ip -n lab-lab-db-1 addr add 10.231.0.11/24 dev eth0",
      "ip -n lab-lab-db-1 link set eth0 up",
    ]);
    assert.ok(!cmds.some((c) => /route|default|nat|masquerade/.test(c)));
  });
  it("veth names fit Linux's 15 characters, keep the vh- prefix and differ per machine", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,40}$/), fc.stringMatching(/^[a-z0-9-]{1,40}$/), (a, b) => {
        assert.ok(vethName(a).length <= 15 && vethName(a).startsWith("vh-"));
        if (a !== b) assert.notEqual(vethName(a), vethName(b));
      }),
    );
    assert.equal(vethName("lab-child-1"), "vh-lab-child-1");
    assert.equal(netnsName("outside"), "lab-outside");
  });
  it("nft table drops forwarding between the lab bridge and anything else", () => {
    const r = nftRuleset();
    assert.match(r, /^table inet django_ha_lab \{/);
    assert.match(r, /iifname "labbr0" oifname != "labbr0" drop/);
    assert.match(r, /oifname "labbr0" iifname != "labbr0" drop/);
  });
  it("finds lab namespaces and links by prefix only", () => {
    assert.deepEqual(parseLabNetns("lab-lab-dns (id: 3)\nother\nlab-outside\n"), ["lab-lab-dns", "lab-outside"]);
    const links = [
      "1: lo: <LOOPBACK,UP> mtu 65536",
      "7: labbr0: <BROADCAST,MULTICAST,UP> mtu 1500",
      "8: vh-lab-dns@if2: <BROADCAST> mtu 1500 master labbr0",
      "9: veth0@if3: <BROADCAST> mtu 1500",
      "10: labbr01: <BROADCAST> mtu 1500",
    ].join("\n");
    assert.deepEqual(parseLabLinks(links), ["labbr0", "vh-lab-dns"]);
  });
});
