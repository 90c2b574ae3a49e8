export * from "./types";
export * from "./packages";
export { renderNodePlan, renderClusterPlans } from "./plan";
export { clusterFacts, PATHS, APP_USER, PORTS, DB } from "./context";
export type { ClusterFacts } from "./context";
