/**
 * PowerOperations on EC2 instances. Fencing is StopInstances with Force=true and SkipOsShutdown=true
 * (no graceful OS shutdown: a node being fenced must not get to flush or run shutdown hooks), then the
 * SDK waiter until the instance is `stopped`. `start` is StartInstances, waiting until `running`.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
  type InstanceStateName,
  StartInstancesCommand,
  StopInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
} from "@aws-sdk/client-ec2";
import { UserError } from "../../model/errors";
import { checkNodeIds, idOf } from "./node-ids";
import type { PowerOperations } from "./types";

export interface Ec2PowerOptions {
  /** Node name → instance id (`i-0123456789abcdef0`). */
  instances: Record<string, string>;
  /** A configured client (tests, custom credentials). Defaults to a client for `region` with the default credential chain. */
  client?: EC2Client;
  /** AWS region of the instances. Defaults to the SDK's (AWS_REGION, profile). Ignored when `client` is given. */
  region?: string;
  /** Bypass the OS's graceful shutdown when fencing (a true hard stop). Defaults to true. */
  skipOsShutdown?: boolean;
  /** Longest wait for `stopped` / `running`, in seconds. Defaults to 300. */
  maxWaitSeconds?: number;
  /** Shortest pause between state polls, in seconds (the SDK waiter backs off up to 15 s). Defaults to 5. */
  minPollSeconds?: number;
}

const firstLine = (e: unknown) => String(e instanceof Error ? e.message : e).split("\n")[0];

/** Only `stopped` and `terminated` count as not running: `stopping` or `shutting-down` may still act. */
export function instanceRuns(state: InstanceStateName | string): boolean {
  return state !== "stopped" && state !== "terminated";
}

export class Ec2Power implements PowerOperations {
  readonly describe: string;
  private readonly client: EC2Client;
  private readonly ids: Map<string, string>;
  private readonly skipOsShutdown: boolean;
  private readonly maxWaitSeconds: number;
  private readonly minPollSeconds: number;

  constructor(options: Ec2PowerOptions) {
    this.ids = checkNodeIds(
      "ec2 instance power",
      options.instances,
      (id) => /^i-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id),
      '"i-0123456789abcdef0"',
    );
    this.client = options.client ?? new EC2Client(options.region ? { region: options.region } : {});
    this.skipOsShutdown = options.skipOsShutdown ?? true;
    this.maxWaitSeconds = options.maxWaitSeconds ?? 300;
    this.minPollSeconds = options.minPollSeconds ?? 5;
    this.describe = `ec2 instance power${options.region ? ` in ${options.region}` : ""}`;
  }

  async isRunning(node: string): Promise<boolean> {
    return instanceRuns(await this.state(node));
  }

  async fence(node: string): Promise<void> {
    const state = await this.state(node);
    if (!instanceRuns(state)) return;
    const id = idOf(this.describe, this.ids, node);
    await this.client.send(
      new StopInstancesCommand({ InstanceIds: [id], Force: true, ...(this.skipOsShutdown ? { SkipOsShutdown: true } : {}) }),
    );
    await this.waitStopped(node, id);
  }

  async start(node: string): Promise<void> {
    const state = await this.state(node);
    const id = idOf(this.describe, this.ids, node);
    if (state === "running") return;
    if (state === "terminated" || state === "shutting-down") {
      throw new UserError(`Instance of ${node} (${id}) is ${state} and cannot start again; replace it with \`pulumi up\`.`);
    }
    // A stopping instance refuses StartInstances: let it finish stopping first.
    if (state === "stopping") await this.waitStopped(node, id);
    if (state !== "pending") await this.client.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await waitUntilInstanceRunning(this.waiter(), { InstanceIds: [id] }).catch((e: unknown) => {
      throw new UserError(
        `Instance of ${node} (${id}) did not reach "running" within ${this.maxWaitSeconds} s (${firstLine(e)}); check it in the EC2 console.`,
      );
    });
  }

  private async state(node: string): Promise<InstanceStateName | string> {
    const id = idOf(this.describe, this.ids, node);
    const out = await this.client.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
    if (!instance?.State?.Name)
      throw new UserError(
        `Instance of ${node} (${id}) was not found in ${this.describe}; check the region and the id in the stack outputs.`,
      );
    return instance.State.Name;
  }

  private async waitStopped(node: string, id: string): Promise<void> {
    await waitUntilInstanceStopped(this.waiter(), { InstanceIds: [id] }).catch((e: unknown) => {
      throw new UserError(
        `Instance of ${node} (${id}) did not reach "stopped" within ${this.maxWaitSeconds} s (${firstLine(e)}); do not treat it as fenced — check it in the EC2 console.`,
      );
    });
  }

  private waiter() {
    return {
      client: this.client,
      maxWaitTime: this.maxWaitSeconds,
      minDelay: this.minPollSeconds,
      maxDelay: Math.max(this.minPollSeconds, 15),
    };
  }
}
