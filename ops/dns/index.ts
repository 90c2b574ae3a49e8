// DNS operations: the interface and one adapter per target.
export * from "./types";
export * from "./members";
export * from "./digitalocean";
export * from "./route53";
export * from "./rfc2136";
