export * from "./cidr";
export * from "./config";
export * from "./errors";
export * from "./schema";
export * from "./stack";
export * from "./topology";
export * from "./names";
export * from "./volumes";
