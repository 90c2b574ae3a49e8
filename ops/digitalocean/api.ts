/**
 * A small client for the DigitalOcean REST API v2, shared by the DNS and power adapters.
 * Plain `fetch` (Node 20): the API is a handful of JSON calls, not worth a generated SDK.
 * The token is read from the environment on every call, so nothing holds it longer than a request.
 */
import { UserError } from "../../model/errors";

export const DIGITALOCEAN_API = "https://api.digitalocean.com";
export const TOKEN_ENV = "DIGITALOCEAN_TOKEN";

export interface DigitalOceanApiOptions {
  /** API origin, without `/v2`. Defaults to `https://api.digitalocean.com`; tests point it at a local server. */
  baseUrl?: string;
  /** How often a request that got 429 (rate limit: 250/min, 5,000/h per token) is retried. Defaults to 5. */
  maxRetries?: number;
  /** Waits between retries and polls; injectable so tests run without real delays. Defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Environment the token is read from. Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Time limit of one HTTP request, in ms. Defaults to 30000. */
  requestTimeoutMs?: number;
}

/** A request the API refused: status, DigitalOcean's error id and message. Never contains the token. */
export class DigitalOceanApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly apiId: string,
    apiMessage: string,
  ) {
    super(`DigitalOcean API ${method} ${path} failed: ${status} ${apiId}${apiMessage ? `: ${apiMessage}` : ""}`);
    this.name = "DigitalOceanApiError";
  }
}

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seconds to wait from a 429 response: Retry-After (seconds or HTTP date), else until RateLimit-Reset, else 1 s backoff doubling. */
export function retryDelayMs(headers: Headers, attempt: number, now = Date.now()): number {
  const retryAfter = headers.get("retry-after");
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = Number(headers.get("ratelimit-reset"));
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now);
  return Math.min(60_000, 1000 * 2 ** attempt);
}

/** The API token from `env`; a UserError saying how to provide it when it is missing. Never printed. */
export function digitalOceanToken(env: NodeJS.ProcessEnv = process.env): string {
  const token = env[TOKEN_ENV];
  if (!token) {
    throw new UserError(
      `${TOKEN_ENV} is not set: create a personal access token with write scope at https://cloud.digitalocean.com/account/api/tokens and export ${TOKEN_ENV}=<token> (in CI: a repository secret of that name).`,
    );
  }
  return token;
}

export class DigitalOceanApi {
  readonly baseUrl: string;
  readonly sleep: (ms: number) => Promise<void>;
  private readonly maxRetries: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly requestTimeoutMs: number;

  constructor(options: DigitalOceanApiOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DIGITALOCEAN_API).replace(/\/+$/, "");
    this.maxRetries = options.maxRetries ?? 5;
    this.sleep = options.sleep ?? realSleep;
    this.env = options.env ?? process.env;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  private token(): string {
    return digitalOceanToken(this.env);
  }

  /**
   * One JSON call under /v2. Retries on 429 honouring Retry-After; reads (GET) are also retried on 5xx and
   * network errors — writes are not, since a POST that reached the API may have created its record already.
   * Returns the parsed body (undefined for 204).
   */
  async request<T>(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
    const token = this.token();
    for (let attempt = 0; ; attempt++) {
      const retriesLeft = attempt < this.maxRetries;
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}/v2${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: "application/json",
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
      } catch (e) {
        if (method === "GET" && retriesLeft) {
          await this.sleep(retryDelayMs(new Headers(), attempt));
          continue;
        }
        const reason = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
        throw new DigitalOceanApiError(method, path, 0, "network_error", `${reason} (is ${this.baseUrl} reachable?)`);
      }
      if ((response.status === 429 || (method === "GET" && response.status >= 500)) && retriesLeft) {
        await response.arrayBuffer();
        await this.sleep(retryDelayMs(response.headers, attempt));
        continue;
      }
      const text = await response.text();
      if (!response.ok) {
        let apiId = "error";
        let apiMessage = text.slice(0, 300);
        try {
          const parsed = JSON.parse(text) as { id?: string; message?: string };
          apiId = parsed.id ?? apiId;
          apiMessage = parsed.message ?? "";
        } catch {
          // not JSON: keep the raw (shortened) text
        }
        throw new DigitalOceanApiError(method, path, response.status, apiId, apiMessage);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    }
  }

  /** Every item of a paginated list (`links.pages.next`), fetched page by page from this client's base URL. */
  async list<T>(path: string, key: string, perPage = 200): Promise<T[]> {
    const items: T[] = [];
    const sep = path.includes("?") ? "&" : "?";
    for (let page = 1; ; page++) {
      const body = await this.request<Record<string, unknown> & { links?: { pages?: { next?: string } } }>(
        "GET",
        `${path}${sep}page=${page}&per_page=${perPage}`,
      );
      const chunk = body[key];
      if (!Array.isArray(chunk)) throw new DigitalOceanApiError("GET", path, 200, "unexpected_body", `no "${key}" array in the response`);
      items.push(...(chunk as T[]));
      if (!body.links?.pages?.next || chunk.length === 0) return items;
    }
  }
}
