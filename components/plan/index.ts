export * from "./cluster";
export * from "./firewall";
export * from "./record";
export * from "./subnets";
export * from "./userData";
