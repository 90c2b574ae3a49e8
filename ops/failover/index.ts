// The failover runbook: remote commands, pure decisions, the journal, the stack record, the run, the rejoin.
export * from "./commands";
export * from "./decide";
export * from "./journal";
export * from "./record";
export * from "./run";
export { rejoinStandby, type RejoinOptions, type RejoinResult } from "./rejoin";
