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
export type { AfterBootContext, AfterBootHook, LabAcme, LabUpOptions, LabUpResult, LabDownOptions, LabLeftovers, NodeStatus } from "./lab";
export { labPower, LabPower } from "./power";
export { labBootstrapHook, type LabBootstrapOptions } from "./bootstrap";
export { labCapabilities, labMachines, labSource, labTsigSecret } from "./source";
export { ensureImage, imageKey, imagePackages } from "./image";
