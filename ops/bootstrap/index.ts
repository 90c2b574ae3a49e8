export * from "./apply";
export * from "./commands";
export * from "./hash";
export * from "./orchestrate";
export * from "./validate";
export * from "./cluster";
export * from "./certificate";
export * from "./stack";
