export * from "./aws";
export * from "./digitalocean";
export * from "./factory";
export * from "./hosts";
export * from "./types";
