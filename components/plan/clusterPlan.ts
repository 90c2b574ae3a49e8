import { ClusterSpec, PlannedNode, planNodes } from "../../model";
import { FirewallGroup, planFirewall } from "./firewall";
import { planRecord, RecordPlan } from "./record";

/** Everything HaCluster creates, as plain data: the machines, the firewall and the public record. */
export interface ClusterPlan<S extends ClusterSpec = ClusterSpec> {
  spec: S;
  nodes: PlannedNode[];
  firewall: FirewallGroup[];
  record: RecordPlan;
}

/** Plan a cluster from its validated spec. Pure. */
export function planCluster<S extends ClusterSpec>(spec: S): ClusterPlan<S> {
  const nodes = planNodes(spec);
  return { spec, nodes, firewall: planFirewall(spec), record: planRecord(spec, nodes) };
}
