export * from "./config";
export * from "./haCluster";
