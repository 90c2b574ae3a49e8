export * from "./apply";
export * from "./commands";
export * from "./hash";
export * from "./orchestrate";
export * from "./validate";
export * from "./bootstrapCluster";
export * from "./certificate";
export * from "./stack";
