export * from "./bootstrap";
export * from "./cluster";
export { bootstrapCheck, bootstrapDiff, bootstrapProvider } from "./provider";
export type { BootstrapInputs, BootstrapOutputs } from "./run";
