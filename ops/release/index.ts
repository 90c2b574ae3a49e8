export * from "./types";
export * from "./release";
export * from "./commands";
export * from "./pack";
export * from "./run";
export * from "./stack";
