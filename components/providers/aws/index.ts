export * from "./acmeRole";
export * from "./machines";
export * from "./network";
export * from "./node";
export * from "./record";
export * from "./rules";
export * from "./securityGroups";
