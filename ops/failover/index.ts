// The failover runbook: pure decisions, the journal, the stack record, the run, the rejoin. The programs it runs on the
// nodes are in commands/, one file per concern, imported by the steps that run them.
export * from "./decide";
export * from "./journal";
export * from "./record";
export * from "./run";
export { rejoinStandby, type RejoinOptions, type RejoinResult } from "./rejoin";
