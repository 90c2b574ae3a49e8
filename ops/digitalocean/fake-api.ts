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
    let body: unknown;
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...(payload === undefined ? {} : { "Content-Type": "application/json" }), ...headers });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    const fail = (status: number, id: string, message: string) => send(status, { id, message });
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return fail(400, "bad_request", "body is not JSON");
    }
    this.log.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), body });
    if (req.headers.authorization !== `Bearer ${FAKE_TOKEN}`) return fail(401, "unauthorized", "Unable to authenticate you.");
    if (raw && req.headers["content-type"] !== "application/json") return fail(415, "unsupported_media_type", "send JSON");
    if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      return send(
        429,
        { id: "too_many_requests", message: "API Rate limit exceeded." },
        { "Retry-After": String(FAKE_RETRY_AFTER_SECONDS) },
      );
    }
    if (this.serverErrorNext > 0 && (this.serverErrorMethod === undefined || this.serverErrorMethod === method)) {
      this.serverErrorNext--;
      return fail(503, "service_unavailable", "Service temporarily unavailable.");
    }
    const b = (body ?? {}) as Record<string, unknown>;
    let m: RegExpMatchArray | null;

    if ((m = url.pathname.match(/^\/v2\/domains\/([^/]+)\/records$/))) {
      const domain = decodeURIComponent(m[1]);
      if (!this.domains.has(domain)) return fail(404, "not_found", "The resource you were accessing could not be found.");
      if (method === "GET") {
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
        return send(200, { domain_records: slice, links: next ? { pages: { next } } : {}, meta: { total: all.length } });
      }
      if (method === "POST") {
        if ((b.type !== "A" && b.type !== "TXT") || typeof b.name !== "string" || typeof b.data !== "string" || typeof b.ttl !== "number") {
          return fail(422, "unprocessable_entity", "type, name, data and ttl are required");
        }
        if (b.name.endsWith(domain)) return fail(422, "unprocessable_entity", "name must be relative to the domain");
        if (b.ttl < 30) return fail(422, "unprocessable_entity", "TTL must be at least 30");
        if (this.records(domain, b.name).some((r) => r.ttl !== b.ttl))
          return fail(422, "unprocessable_entity", "records of one name must share one TTL");
        const created = this.addRecord(domain, b.name, b.data, b.ttl, b.type);
        this.afterRecordWrite?.(domain);
        return send(201, { domain_record: created });
      }
    }
    if ((m = url.pathname.match(/^\/v2\/domains\/([^/]+)\/records\/(\d+)$/))) {
      const domain = decodeURIComponent(m[1]);
      const list = this.domains.get(domain) ?? [];
      const record = list.find((r) => r.id === Number(m![2]));
      if (!record) return fail(404, "not_found", "The resource you were accessing could not be found.");
      if (method === "DELETE") {
        this.domains.set(
          domain,
          list.filter((r) => r !== record),
        );
        this.afterRecordWrite?.(domain);
        return send(204);
      }
      if (method === "PATCH") {
        if (b.type !== record.type) return fail(422, "unprocessable_entity", "type is required");
        if (typeof b.ttl === "number") record.ttl = b.ttl;
        this.afterRecordWrite?.(domain);
        return send(200, { domain_record: record });
      }
    }
    if ((m = url.pathname.match(/^\/v2\/droplets\/(\d+)$/)) && method === "GET") {
      const droplet = this.droplets.get(Number(m[1]));
      return droplet ? send(200, { droplet }) : fail(404, "not_found", "The resource you were accessing could not be found.");
    }
    if ((m = url.pathname.match(/^\/v2\/droplets\/(\d+)\/actions$/)) && method === "POST") {
      const droplet = this.droplets.get(Number(m[1]));
      if (!droplet) return fail(404, "not_found", "The resource you were accessing could not be found.");
      if (!["power_off", "power_on", "shutdown"].includes(String(b.type))) return fail(422, "unprocessable_entity", "unknown action type");
      if (this.actions.size > 0 && [...this.actions.values()].some((a) => a.dropletId === droplet.id && a.status === "in-progress")) {
        return fail(422, "unprocessable_entity", "Droplet already has a pending event.");
      }
      const action: FakeAction = {
        id: this.nextId++,
        dropletId: droplet.id,
        type: String(b.type),
        status: "in-progress",
        pollsLeft: this.actionPolls,
      };
      this.actions.set(action.id, action);
      return send(201, {
        action: { id: action.id, status: action.status, type: action.type, resource_id: droplet.id, resource_type: "droplet" },
      });
    }
    if ((m = url.pathname.match(/^\/v2\/actions\/(\d+)$/)) && method === "GET") {
      const action = this.actions.get(Number(m[1]));
      if (!action) return fail(404, "not_found", "The resource you were accessing could not be found.");
      if (action.status === "in-progress" && --action.pollsLeft <= 0) {
        action.status = action.type === this.failActionType ? "errored" : "completed";
        const droplet = this.droplets.get(action.dropletId)!;
        if (action.status === "completed") droplet.status = action.type === "power_on" ? "active" : "off";
      }
      return send(200, { action: { id: action.id, status: action.status, type: action.type, resource_id: action.dropletId } });
    }
    return fail(404, "not_found", `no route ${method} ${url.pathname}`);
  }
}
