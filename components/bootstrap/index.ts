export * from "./bootstrap";
export * from "./cluster";
export * from "./nextStep";
export { bootstrapCheck, bootstrapDiff, bootstrapProvider } from "./provider";
export type { BootstrapInputs, BootstrapOutputs } from "./run";
