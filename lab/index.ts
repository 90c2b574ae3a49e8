export { labPaths, LAB_NET, type LabPaths } from "./config";
export {
  labUp,
  labDown,
  labStatus,
  labDns,
  labSsh,
  labLeftovers,
  isClean,
  labInventory,
  preflight,
  labRemoveVolumes,
  labReplaceMachine,
  labAcme,
} from "./lab";
export type { AfterBootHook, LabAcme, LabUpOptions, LabUpResult, LabDownOptions, LabLeftovers, NodeStatus } from "./lab";
export { labPower, LabPower } from "./power";
export { ensureImage, imageKey, imagePackages } from "./image";
