/**
 * A fake DigitalOcean API v2 on 127.0.0.1 for the adapters' tests: domain records and droplet power actions,
 * in memory, with the checks the real API makes that matter to us (bearer token, paths, body fields,
 * one TTL per record name, 429 rate limiting with Retry-After, pagination). Every request is logged.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export const FAKE_TOKEN = "dop_v1_fake_test_token";
/** Retry-After on every 429 the fake sends. */
export const FAKE_RETRY_AFTER_SECONDS = 7;

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

interface FakeRecord {
  id: number;
  type: string;
  name: string;
  data: string;
  ttl: number;
}

interface FakeAction {
  id: number;
  dropletId: number;
  type: string;
  status: "in-progress" | "completed" | "errored";
  pollsLeft: number;
}

export class FakeDigitalOcean {
  readonly log: LoggedRequest[] = [];
  readonly domains = new Map<string, FakeRecord[]>();
  readonly droplets = new Map<number, { id: number; name: string; status: string }>();
  readonly actions = new Map<number, FakeAction>();
  /** The next this-many requests get 429 with `Retry-After: 1`. */
  rateLimitNext = 0;
  /** The next this-many requests (of `serverErrorMethod` when set) get 503. */
  serverErrorNext = 0;
  serverErrorMethod: string | undefined;
  /** Page size cap, so tests can force pagination with few records. */
  maxPerPage = 200;
  /** Polls of an action before it completes. */
  actionPolls = 2;
  /** Called after every change to a domain's records (to check invariants between steps). */
  afterRecordWrite: ((domain: string) => void) | undefined;
  /** Action type that ends `errored` instead of `completed`. */
  failActionType: string | undefined;
  private nextId = 1000;
  private server: http.Server | undefined;

  addRecord(domain: string, name: string, data: string, ttl: number, type = "A"): FakeRecord {
    const record = { id: this.nextId++, type, name, data, ttl };
    this.domains.set(domain, [...(this.domains.get(domain) ?? []), record]);
    return record;
  }

  records(domain: string, name?: string): FakeRecord[] {
    return (this.domains.get(domain) ?? []).filter((r) => name === undefined || r.name === name);
  }

  /** Requests other than reads, as `METHOD path body` lines, for exact assertions. */
  writes(): string[] {
    return this.log
      .filter((r) => r.method !== "GET")
      .map((r) => `${r.method} ${r.path}${r.body === undefined ? "" : ` ${JSON.stringify(r.body)}`}`);
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, Buffer.concat(chunks).toString("utf8"), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve, reject) => this.server!.close((e) => (e ? reject(e) : resolve())));
  }

  private handle(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const reply = replier(res);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return reply.fail(400, "bad_request", "body is not JSON");
    }
    this.log.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), body });
    if (this.refused(req, raw, reply)) return;
    const b = (body ?? {}) as Record<string, unknown>;
    let m: RegExpMatchArray | null;
    if ((m = url.pathname.match(/^\/v2\/domains\/([^/]+)\/records$/)) && (method === "GET" || method === "POST"))
      return method === "GET"
        ? this.listRecords(decodeURIComponent(m[1]), url, reply)
        : this.createRecord(decodeURIComponent(m[1]), b, reply);
    if ((m = url.pathname.match(/^\/v2\/domains\/([^/]+)\/records\/(\d+)$/)) && (method === "DELETE" || method === "PATCH"))
      return this.changeRecord(decodeURIComponent(m[1]), Number(m[2]), method, b, reply);
    if ((m = url.pathname.match(/^\/v2\/droplets\/(\d+)$/)) && method === "GET") {
      const droplet = this.droplets.get(Number(m[1]));
      return droplet ? reply.send(200, { droplet }) : reply.fail(404, "not_found", NOT_FOUND);
    }
    if ((m = url.pathname.match(/^\/v2\/droplets\/(\d+)\/actions$/)) && method === "POST") return this.startAction(Number(m[1]), b, reply);
    if ((m = url.pathname.match(/^\/v2\/actions\/(\d+)$/)) && method === "GET") return this.pollAction(Number(m[1]), reply);
    return reply.fail(404, "not_found", `no route ${method} ${url.pathname}`);
  }

  /** The checks before any route: the token, JSON bodies, the rate limit and injected server errors. True = answered. */
  private refused(req: http.IncomingMessage, raw: string, reply: Reply): boolean {
    if (req.headers.authorization !== `Bearer ${FAKE_TOKEN}`) reply.fail(401, "unauthorized", "Unable to authenticate you.");
    else if (raw && req.headers["content-type"] !== "application/json") reply.fail(415, "unsupported_media_type", "send JSON");
    else if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      reply.send(
        429,
        { id: "too_many_requests", message: "API Rate limit exceeded." },
        { "Retry-After": String(FAKE_RETRY_AFTER_SECONDS) },
      );
    } else if (this.serverErrorNext > 0 && (this.serverErrorMethod === undefined || this.serverErrorMethod === req.method)) {
      this.serverErrorNext--;
      reply.fail(503, "service_unavailable", "Service temporarily unavailable.");
    } else return false;
    return true;
  }

  /** GET /v2/domains/:domain/records, filtered by type and full name, paginated. */
  private listRecords(domain: string, url: URL, reply: Reply): void {
    if (!this.domains.has(domain)) return reply.fail(404, "not_found", NOT_FOUND);
    const type = url.searchParams.get("type");
    const full = url.searchParams.get("name");
    const all = this.records(domain).filter(
      (r) => (!type || r.type === type) && (!full || (r.name === "@" ? domain : `${r.name}.${domain}`) === full),
    );
    const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 20), this.maxPerPage);
    const page = Number(url.searchParams.get("page") ?? 1);
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const next =
      page * perPage < all.length
        ? `https://api.digitalocean.com/v2/domains/${domain}/records?page=${page + 1}&per_page=${perPage}`
        : undefined;
    return reply.send(200, { domain_records: slice, links: next ? { pages: { next } } : {}, meta: { total: all.length } });
  }

  /** POST /v2/domains/:domain/records: A or TXT, relative name, TTL ≥ 30 and one TTL per name. */
  private createRecord(domain: string, b: Record<string, unknown>, reply: Reply): void {
    if (!this.domains.has(domain)) return reply.fail(404, "not_found", NOT_FOUND);
    if ((b.type !== "A" && b.type !== "TXT") || typeof b.name !== "string" || typeof b.data !== "string" || typeof b.ttl !== "number") {
      return reply.fail(422, "unprocessable_entity", "type, name, data and ttl are required");
    }
    if (b.name.endsWith(domain)) return reply.fail(422, "unprocessable_entity", "name must be relative to the domain");
    if (b.ttl < 30) return reply.fail(422, "unprocessable_entity", "TTL must be at least 30");
    const ttl = b.ttl;
    if (this.records(domain, b.name).some((r) => r.ttl !== ttl))
      return reply.fail(422, "unprocessable_entity", "records of one name must share one TTL");
    const created = this.addRecord(domain, b.name, b.data, b.ttl, b.type);
    this.afterRecordWrite?.(domain);
    return reply.send(201, { domain_record: created });
  }

  /** DELETE or PATCH (TTL) /v2/domains/:domain/records/:id. */
  private changeRecord(domain: string, id: number, method: "DELETE" | "PATCH", b: Record<string, unknown>, reply: Reply): void {
    const list = this.domains.get(domain) ?? [];
    const record = list.find((r) => r.id === id);
    if (!record) return reply.fail(404, "not_found", NOT_FOUND);
    if (method === "DELETE") {
      this.domains.set(
        domain,
        list.filter((r) => r !== record),
      );
      this.afterRecordWrite?.(domain);
      return reply.send(204);
    }
    if (b.type !== record.type) return reply.fail(422, "unprocessable_entity", "type is required");
    if (typeof b.ttl === "number") record.ttl = b.ttl;
    this.afterRecordWrite?.(domain);
    return reply.send(200, { domain_record: record });
  }

  /** POST /v2/droplets/:id/actions: power_off, power_on, shutdown; one pending action per droplet. */
  private startAction(dropletId: number, b: Record<string, unknown>, reply: Reply): void {
    const droplet = this.droplets.get(dropletId);
    if (!droplet) return reply.fail(404, "not_found", NOT_FOUND);
    if (!["power_off", "power_on", "shutdown"].includes(String(b.type)))
      return reply.fail(422, "unprocessable_entity", "unknown action type");
    if (this.actions.size > 0 && [...this.actions.values()].some((a) => a.dropletId === droplet.id && a.status === "in-progress")) {
      return reply.fail(422, "unprocessable_entity", "Droplet already has a pending event.");
    }
    const action: FakeAction = {
      id: this.nextId++,
      dropletId: droplet.id,
      type: String(b.type),
      status: "in-progress",
      pollsLeft: this.actionPolls,
    };
    this.actions.set(action.id, action);
    return reply.send(201, {
      action: { id: action.id, status: action.status, type: action.type, resource_id: droplet.id, resource_type: "droplet" },
    });
  }

  /** GET /v2/actions/:id: completes (or errors) after `actionPolls` polls, and powers the droplet off or on. */
  private pollAction(id: number, reply: Reply): void {
    const action = this.actions.get(id);
    if (!action) return reply.fail(404, "not_found", NOT_FOUND);
    if (action.status === "in-progress" && --action.pollsLeft <= 0) {
      action.status = action.type === this.failActionType ? "errored" : "completed";
      const droplet = this.droplets.get(action.dropletId)!;
      if (action.status === "completed") droplet.status = action.type === "power_on" ? "active" : "off";
    }
    return reply.send(200, { action: { id: action.id, status: action.status, type: action.type, resource_id: action.dropletId } });
  }
}

const NOT_FOUND = "The resource you were accessing could not be found.";

interface Reply {
  send(status: number, payload?: unknown, headers?: Record<string, string>): void;
  fail(status: number, id: string, message: string): void;
}

function replier(res: http.ServerResponse): Reply {
  const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { ...(payload === undefined ? {} : { "Content-Type": "application/json" }), ...headers });
    res.end(payload === undefined ? undefined : JSON.stringify(payload));
  };
  return { send, fail: (status, id, message) => send(status, { id, message }) };
}
