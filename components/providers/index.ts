// The targets' machine components (./aws, ./digitalocean, ./hosts) are not re-exported: createMachines loads only
// the stack's own (factory.ts). What is here is pure planning code, which loads no provider SDK.
export * from "./aws/rules";
export * from "./digitalocean/firewall";
export * from "./digitalocean/tags";
export * from "./factory";
export * from "./types";
