/**
 * PowerOperations on DigitalOcean droplets. Fencing is the `power_off` action — a hard power cut, not
 * `shutdown` — and resolves only when DigitalOcean reports the action completed; `start` is `power_on`.
 * DigitalOcean runs one action at a time per droplet: while another action is pending, we wait and retry.
 */
import { UserError } from "../../model/errors";
import { DigitalOceanApi, DigitalOceanApiError, type DigitalOceanApiOptions } from "../digitalocean/api";
import { checkNodeIds, idOf } from "./node-ids";
import type { PowerOperations } from "./types";

export interface DigitalOceanPowerOptions extends DigitalOceanApiOptions {
  /** Node name → droplet id (number or numeric string, as Pulumi outputs it). */
  droplets: Record<string, number | string>;
  /** Between polls of a running action, in ms. Defaults to 3000. */
  pollIntervalMs?: number;
  /** Longest wait for an action, in ms. Defaults to 180000 (3 min). */
  timeoutMs?: number;
}

interface Droplet {
  id: number;
  status: "new" | "active" | "off" | "archive" | string;
}

interface Action {
  id: number;
  status: "in-progress" | "completed" | "errored";
  type: string;
}

/** Not running: powered off, or archived. `new` (booting) and `active` count as running — a fence must not skip them. */
export function dropletRuns(status: string): boolean {
  return status !== "off" && status !== "archive";
}

export class DigitalOceanPower implements PowerOperations {
  readonly describe = "digitalocean droplet power actions";
  private readonly api: DigitalOceanApi;
  private readonly ids: Map<string, number | string>;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(options: DigitalOceanPowerOptions) {
    this.ids = checkNodeIds(this.describe, options.droplets, (id) => /^[1-9]\d*$/.test(String(id)), "412345678");
    this.api = new DigitalOceanApi(options);
    this.pollIntervalMs = options.pollIntervalMs ?? 3000;
    this.timeoutMs = options.timeoutMs ?? 180_000;
  }

  async isRunning(node: string): Promise<boolean> {
    return dropletRuns((await this.droplet(node)).status);
  }

  async fence(node: string): Promise<void> {
    const droplet = await this.droplet(node);
    if (!dropletRuns(droplet.status)) return;
    await this.act(node, droplet.id, "power_off");
  }

  async start(node: string): Promise<void> {
    const droplet = await this.droplet(node);
    if (droplet.status === "active") return;
    if (droplet.status === "archive")
      throw new UserError(
        `Droplet of ${node} (id ${droplet.id}) is archived and cannot be powered on; restore it in the DigitalOcean console first.`,
      );
    await this.act(node, droplet.id, "power_on");
  }

  private async droplet(node: string): Promise<Droplet> {
    const id = idOf(this.describe, this.ids, node);
    return (await this.api.request<{ droplet: Droplet }>("GET", `/droplets/${id}`)).droplet;
  }

  /** Start the action, then poll it until it completes; errored or too slow is an error with the next step. */
  private async act(node: string, dropletId: number, type: "power_off" | "power_on"): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let action: Action;
    for (;;) {
      try {
        ({ action } = await this.api.request<{ action: Action }>("POST", `/droplets/${dropletId}/actions`, { type }));
        break;
      } catch (e) {
        // One action at a time per droplet: another one (a volume attach, a resize) answers 422 "pending event".
        const busy = e instanceof DigitalOceanApiError && e.status === 422 && /pending event/i.test(e.message);
        if (!busy || Date.now() > deadline) throw e;
        await this.api.sleep(this.pollIntervalMs);
      }
    }
    while (action.status === "in-progress") {
      if (Date.now() > deadline) {
        throw new UserError(
          `${type} of ${node} (droplet ${dropletId}, action ${action.id}) did not complete within ${this.timeoutMs / 1000} s; check the droplet in the DigitalOcean console before trusting it is ${type === "power_off" ? "off" : "on"}.`,
        );
      }
      await this.api.sleep(this.pollIntervalMs);
      ({ action } = await this.api.request<{ action: Action }>("GET", `/actions/${action.id}`));
    }
    if (action.status !== "completed") {
      throw new UserError(
        `${type} of ${node} (droplet ${dropletId}, action ${action.id}) ended ${action.status}; retry, or power the droplet ${type === "power_off" ? "off" : "on"} in the DigitalOcean console.`,
      );
    }
  }
}
