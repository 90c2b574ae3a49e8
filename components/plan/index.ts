export * from "./clusterPlan";
export * from "./firewall";
export * from "./record";
export * from "./subnets";
export * from "./userData";
