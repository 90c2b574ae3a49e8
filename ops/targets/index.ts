// From a stack's inventory to its operations adapters (DNS, power), with credentials from the environment.
export * from "./credentials";
export * from "./dns";
export * from "./power";
