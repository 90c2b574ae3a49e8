// `npm run status`: gather (SSH + DNS), evaluate (what needs a human), render (screen and JSON).
export * from "./types";
export * from "./probe";
export * from "./evaluate";
export * from "./render";
export * from "./gather";
export * from "./record";
