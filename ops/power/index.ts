// Power (fencing) operations: the interface and one adapter per target (the lab's lives in lab/: ops never imports lab/, callers inject it, see ops/targets).
export * from "./types";
export * from "./node-ids";
export * from "./digitalocean";
export * from "./ec2";
