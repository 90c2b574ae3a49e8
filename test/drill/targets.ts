/**
 * Which child the next request goes to, as a client behind the round-robin name would choose: resolve the
 * name, keep the answer for its TTL, take its members in turn, resolve again when the TTL ran out. Pure apart
 * from the injected resolver and clock.
 */

export interface ResolvedAddress {
  address: string;
  /** Seconds the answer may be cached. */
  ttl: number;
}

export type Resolve = () => Promise<ResolvedAddress[]>;

export class RoundRobinTargets {
  private members: string[] = [];
  private expires = -Infinity;
  private turn = 0;
  private refreshing?: Promise<void>;
  /** How many answers came from the resolver (to check that the TTL is honoured). */
  resolutions = 0;

  constructor(
    private readonly resolve: Resolve,
    private readonly now: () => number = Date.now,
  ) {}

  /** The next member's address; resolves first when there is no answer yet or its TTL ran out. */
  async next(): Promise<string> {
    if (this.now() >= this.expires) await this.refresh();
    const address = this.members[this.turn % this.members.length];
    this.turn++;
    return address;
  }

  private refresh(): Promise<void> {
    // Requests started while a lookup is under way share it, as a stub resolver's cache would.
    this.refreshing ??= (async () => {
      try {
        const answer = await this.resolve();
        if (answer.length === 0) throw new Error("the name resolved to no address");
        this.members = answer.map((a) => a.address);
        this.expires = this.now() + Math.min(...answer.map((a) => a.ttl)) * 1000;
        this.resolutions++;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
