export * from "./machines";
export * from "./node";
export * from "./tags";
export * from "./firewall";
