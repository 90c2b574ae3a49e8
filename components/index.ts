export * from "./cluster";
export * from "./plan";
export * from "./providers";
export * from "./secrets";
