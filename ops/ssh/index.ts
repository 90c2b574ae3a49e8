export * from "./executor";
export * from "./known-hosts";
export * from "./quote";
