import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { digitaloceanConfig } from "../test/configs";
import { broaderThanThreshold, Cidr, coverage, parseCidr } from "./cidr";
import { ConfigError, parseClusterSpec } from ".";

const ok = (text: string): Cidr => {
  const r = parseCidr(text);
  assert.ok(r.ok, `${text}: ${r.ok ? "" : r.fix}`);
  return r.cidr;
};
const fixOf = (text: unknown): string => {
  const r = parseCidr(text);
  assert.ok(!r.ok, `${String(text)} was accepted`);
  return r.fix;
};

describe("parseCidr", () => {
  const canonical: [string, string][] = [
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["0.0.0.0/00", "0.0.0.0/0"],
    ["0.0.0.0/000", "0.0.0.0/0"],
    ["::/0", "::/0"],
    ["::0/0", "::/0"],
    ["0:0:0:0:0:0:0:0/0", "::/0"],
    ["203.0.113.7/032", "203.0.113.7/32"],
    ["2001:DB8:0::/48", "2001:db8::/48"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001/128", "2001:db8::1/128"],
  ];
  for (const [input, text] of canonical) it(`reads ${input} as ${text}`, () => assert.equal(ok(input).text, text));

  const refused: [string, unknown, RegExp][] = [
    [
      "host bits set (IPv4)",
      "203.0.113.7/24",
      /has host bits set: did you mean 203\.0\.113\.0\/24 \(the whole network\), or 203\.0\.113\.7\/32 \(this one address\)\?/,
    ],
    ["host bits set (IPv6)", "2001:db8::1/48", /did you mean 2001:db8::\/48 \(the whole network\), or 2001:db8::1\/128/],
    ["no prefix length", "203.0.113.7", /has no prefix length; write 203\.0\.113\.7\/32/],
    ["no prefix length (IPv6)", "2001:db8::7", /write 2001:db8::7\/128/],
    ["prefix too long", "10.0.0.0/33", /prefix length "33"; an IPv4 prefix length is a number from 0 to 32/],
    ["signed prefix", "10.0.0.0/+8", /prefix length "\+8"/],
    ["octal-looking IPv4", "010.0.0.0/8", /other than as four decimal numbers .*8\.0\.0\.0/],
    ["short IPv4", "10.1/16", /four numbers 0-255/],
    ["hex IPv4", "0x0a.0.0.0/8", /four numbers 0-255/],
    ["zone id", "fe80::1%eth0/64", /zone id \(%eth0\)/],
    [
      "IPv4-mapped IPv6 (anywhere)",
      "::ffff:0.0.0.0/96",
      /IPv4-mapped IPv6 range.*write it as IPv4, 0\.0\.0\.0\/0 \(more than a \/8: SSH from anywhere/,
    ],
    ["IPv4-mapped IPv6 (hex)", "::ffff:cb00:7107/128", /write it as IPv4, 203\.0\.113\.7\/32$/],
    ["spaces", " 203.0.113.7/32", /has spaces around it; write "203\.0\.113\.7\/32"/],
    ["not an address", "office/32", /does not start with an IPv4 or IPv6 address/],
    ["a number", 42, /must be a CIDR written as text/],
  ];
  for (const [what, input, fix] of refused) it(`refuses ${what}`, () => assert.match(fixOf(input), fix));

  const ipv4 = fc
    .tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
    )
    .map((b) => b.join("."));

  it("gives the same range for every spelling of a prefix length (property)", () => {
    fc.assert(
      fc.property(ipv4, fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 4 }), (addr, prefix, zeros) => {
        const plain = parseCidr(`${addr}/${prefix}`);
        const padded = parseCidr(`${addr}/${"0".repeat(zeros)}${prefix}`);
        assert.deepEqual(padded, plain);
      }),
    );
  });

  it("either accepts a CIDR canonically or names the network it probably meant (property)", () => {
    fc.assert(
      fc.property(ipv4, fc.integer({ min: 0, max: 32 }), (addr, prefix) => {
        const r = parseCidr(`${addr}/${prefix}`);
        if (r.ok) {
          assert.deepEqual(parseCidr(r.cidr.text), r, "canonical text parses to itself");
        } else {
          const meant = /did you mean (\S+) \(the whole network\), or (\S+) \(this one address\)/.exec(r.fix);
          assert.ok(meant, r.fix);
          const network = ok(meant[1]);
          assert.equal(network.prefix, prefix);
          assert.equal(ok(meant[2]).text, `${addr}/32`);
          const inside = ok(`${addr}/32`).start;
          assert.ok(inside >= network.start && inside < network.start + network.size, "the address lies in the network offered");
        }
      }),
    );
  });

  it("counts overlapping ranges once (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(ipv4, fc.integer({ min: 4, max: 32 })), { minLength: 1, maxLength: 8 }), (pairs) => {
        const list = pairs.map(([a, p]) => {
          const r = parseCidr(`${a}/${p}`);
          return r.ok ? r.cidr : ok(/did you mean (\S+) \(the whole network\)/.exec(r.fix)![1]);
        });
        const total = coverage(list)[4];
        const sizes = list.map((c) => c.size);
        assert.ok(total <= sizes.reduce((a, b) => a + b, 0n));
        assert.ok(total >= sizes.reduce((a, b) => (a > b ? a : b), 0n));
        assert.equal(coverage([...list, ...list])[4], total, "a repeated range adds nothing");
      }),
    );
  });

  it("treats more than a /8 of IPv4 or a /32 of IPv6 as anywhere", () => {
    assert.deepEqual(broaderThanThreshold([ok("10.0.0.0/8")]), []);
    assert.deepEqual(broaderThanThreshold([ok("10.0.0.0/8"), ok("10.1.0.0/16")]), [], "overlaps are merged");
    assert.deepEqual(broaderThanThreshold([ok("10.0.0.0/8"), ok("11.0.0.0/16")]), [4]);
    assert.deepEqual(broaderThanThreshold([ok("2001:db8::/32")]), []);
    assert.deepEqual(broaderThanThreshold([ok("2000::/3")]), [6]);
  });
});

describe("adminCidrs in the stack config", () => {
  const issues = (adminCidrs: unknown[], extra: Record<string, unknown> = {}) => {
    try {
      parseClusterSpec(digitaloceanConfig(2, { adminCidrs, ...extra }));
      return [];
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.issues.map((i) => `${i.key} = ${i.value}: ${i.fix}`);
    }
  };

  const anywhere: [string, unknown[], RegExp][] = [
    ["/00", ["0.0.0.0/00"], /adminCidrs\[0\] = "0\.0\.0\.0\/00": opens SSH to the whole Internet \(it is 0\.0\.0\.0\/0\)/],
    ["::0/0", ["203.0.113.7/32", "::0/0"], /adminCidrs\[1\] = "::0\/0": opens SSH to the whole Internet \(it is ::\/0\)/],
    [
      "half the IPv4 space",
      ["0.0.0.0/1"],
      /adminCidrs\[0\] = "0\.0\.0\.0\/1": covers 2\^31 IPv4 addresses, more than a \/8: that counts as SSH from anywhere/,
    ],
    [
      "two /9s and a /10",
      ["10.0.0.0/9", "11.0.0.0/9", "12.0.0.0/10"],
      /django-ha:adminCidrs = \[.*\]: together cover 20,971,520 IPv4 addresses, more than a \/8/,
    ],
    ["an IPv6 /16", ["2001::/16"], /covers 2\^112 IPv6 addresses, more than a \/32/],
    ["IPv4-mapped anywhere", ["::ffff:0:0/96"], /write it as IPv4, 0\.0\.0\.0\/0/],
  ];
  for (const [what, cidrs, message] of anywhere) {
    it(`refuses ${what} without allowSshFromAnywhere`, () => {
      const found = issues(cidrs);
      assert.ok(
        found.some((i) => message.test(i)),
        found.join("\n"),
      );
      assert.ok(
        found.every((i) => /allowSshFromAnywhere/.test(i)),
        found.join("\n"),
      );
    });
  }

  it("accepts broad ranges with allowSshFromAnywhere, canonically and once", () => {
    const spec = parseClusterSpec(
      digitaloceanConfig(2, { adminCidrs: ["0.0.0.0/00", "0.0.0.0/0", "::0/0", "2001:DB8::/32"], allowSshFromAnywhere: true }),
    );
    assert.deepEqual(spec.adminCidrs, ["0.0.0.0/0", "::/0", "2001:db8::/32"]);
  });

  it("accepts a /8 and an ISP-sized IPv6 range", () => {
    assert.deepEqual(issues(["10.0.0.0/8", "2001:db8::/32"]), []);
  });

  it("refuses host bits with the network in the fix", () => {
    assert.deepEqual(issues(["203.0.113.7/24"]), [
      'django-ha:adminCidrs[0] = "203.0.113.7/24": has host bits set: did you mean 203.0.113.0/24 (the whole network), or 203.0.113.7/32 (this one address)?',
    ]);
  });
});
