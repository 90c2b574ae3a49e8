export * from "./errors";
export * from "./schema";
export * from "./stack";
export * from "./topology";
