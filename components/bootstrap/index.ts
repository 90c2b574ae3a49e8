export * from "./bootstrap";
export * from "./bootstrapHaCluster";
export * from "./nextStep";
export { bootstrapCheck, bootstrapDiff, bootstrapProvider } from "./provider";
export type { BootstrapInputs, BootstrapOutputs } from "./run";
