export { startLoad, clientConfig, verifyAcked, notesOn, compareWithNode, type LoadOptions, type LoadRun, type Verification } from "./load";
export {
  ackedIds,
  availability,
  drillFigures,
  firstFailure,
  firstSuccessAfter,
  formatTimeline,
  latencyMs,
  longestOutage,
  outageMs,
  outages,
} from "./timeline";
export type { DrillFigures, Outage, Sample, SampleKind, WindowAvailability } from "./timeline";
export { operator, type OperatorRun } from "./operator";
export { outside, web } from "./web";
