import * as pulumi from "@pulumi/pulumi";
import { renderNodePlan } from "../../roles";
import type { AcmeContext, ClusterSecrets, NodePlan, ShareMount } from "../../roles/types";
import { bundleAgent } from "../../ops/acme/bundle";
import { bundleHealthAgent } from "../../ops/health/bundle";
import { bootstrapAppDir } from "../../ops/bootstrap/stack";
import type { HealthContext } from "../../roles/health";
import { healthDnsSecretKey, type ClusterSpec, type Inventory } from "../../model";
import { Bootstrap } from "./bootstrap";

/** Args of {@link bootstrapHaCluster}. */
export interface ClusterBootstrapArgs {
  spec: ClusterSpec;
  /** HaCluster.inventory. */
  inventory: pulumi.Input<Inventory>;
  /** HaCluster.secrets. */
  secrets: pulumi.Input<ClusterSecrets>;
  /** Text of the OpenSSH private key the machines authorize (secret config). */
  privateKey: pulumi.Input<string>;
  /**
   * The Django project's tree the first release is built from. Defaults to django-ha:app's source as `npm run
   * bootstrap` takes it: its directory, or for a git source the ref's tree (`git archive` of a bare clone, the
   * release packer's code) exported into .django-ha/<stack>/source.
   */
  appDir?: string;
  /** How children and the worker see the share. Defaults to "nfs". */
  shareMount?: ShareMount;
  /** known_hosts for pinning. Defaults to .django-ha/<stack>/known_hosts. */
  knownHostsPath?: pulumi.Input<string>;
  /** node → the provider's machine id (Machines.machineIds): a replaced machine is bootstrapped again. */
  machineIds?: pulumi.Input<Record<string, string>>;
  /**
   * DNS-01's credential for the renewal agent (secret config): hosts → django-ha:acmeTsigSecret, else
   * django-ha:dnsTsigSecret; digitalocean → django-ha:acmeDnsToken. Defaults to none (http-01, Route 53).
   */
  acmeDnsSecret?: pulumi.Input<string | undefined>;
  /**
   * The values of django-ha:app.secretKeys (the secret django-ha:appSecrets, a JSON object), rendered into
   * /etc/django-ha/app-secrets.env on the children and the worker. Defaults to none.
   */
  appSecrets?: pulumi.Input<Record<string, string>>;
  /**
   * The health agent's DNS credential (secret config): hosts → django-ha:healthTsigSecret with health.dnsKeyName,
   * else django-ha:dnsTsigSecret; digitalocean → django-ha:healthDnsToken. None on aws or with the agent off.
   */
  healthDnsSecret?: pulumi.Input<string | undefined>;
}

/** What the roles need of the certificate besides the spec: the agent program and the DNS-01 credential. */
export type AcmeInputs = Omit<AcmeContext, "certificate">;
/** What the roles need of the health agent besides the spec: the program and the DNS credential. */
export type HealthInputs = Omit<HealthContext, "spec">;

/** What {@link renderPlans} renders from: the spec, the resolved inventory and secrets, and the node-side inputs. */
export interface PlanInputs {
  spec: ClusterSpec;
  inventory: Inventory;
  secrets: ClusterSecrets;
  /** The project's tree the first release is built from. */
  appDir: string;
  shareMount: ShareMount;
  acme: AcmeInputs;
  health: HealthInputs;
  /** The values of django-ha:app.secretKeys. Defaults to none. */
  appSecrets?: Record<string, string>;
}

/** Every node's plan, rendered by roles/ from the resolved inventory and secrets. Pure. */
export function renderPlans(p: PlanInputs): NodePlan[] {
  const ctx = {
    inventory: p.inventory,
    secrets: p.secrets,
    shareMount: p.shareMount,
    appDir: p.appDir,
    adminCidrs: p.spec.adminCidrs,
    acme: { certificate: p.spec.certificate, ...p.acme },
    health: { spec: p.spec.health, ...p.health },
    app: p.spec.app,
    appSecrets: p.appSecrets ?? {},
  };
  return p.inventory.nodes.map((n) => renderNodePlan(n, ctx));
}

/** The Bootstrap resource of a cluster: renders the plans (secret) and applies them on `pulumi up`. */
export function bootstrapHaCluster(name: string, args: ClusterBootstrapArgs, opts?: pulumi.ComponentResourceOptions): Bootstrap {
  const appDir = args.appDir ?? bootstrapAppDir({ app: args.spec.app, stack: pulumi.getStack() });
  // The agent is bundled here, from this checkout: what the nodes run is what this repository ships.
  const plans = pulumi
    .all([args.inventory, args.secrets, args.acmeDnsSecret, args.healthDnsSecret, args.appSecrets ?? {}])
    .apply(async ([inventory, secrets, dnsSecret, healthSecret, appSecrets]) =>
      renderPlans({
        spec: args.spec,
        inventory,
        secrets,
        appDir,
        shareMount: args.shareMount ?? "nfs",
        acme: { agentSource: await bundleAgent(), ...(dnsSecret ? { dnsSecret } : {}) },
        health: {
          agentSource: healthDnsSecretKey(args.spec) ? await bundleHealthAgent() : "",
          ...(healthSecret ? { dnsSecret: healthSecret } : {}),
        },
        appSecrets,
      }),
    );
  return new Bootstrap(
    name,
    {
      inventory: args.inventory,
      plans: pulumi.secret(plans),
      privateKey: args.privateKey,
      knownHostsPath: args.knownHostsPath,
      machineIds: args.machineIds,
      healthPath: args.spec.app.healthPath,
    },
    opts,
  );
}
