// Power (fencing) operations: the interface and one adapter per target (the lab's lives in lab/).
export * from "./types";
export * from "./node-ids";
export * from "./digitalocean";
export * from "./ec2";
export { LabPower, labPower } from "../../lab/power";
