// The ACME renewal agent: what other code uses (the bootstrap bundles it; the roles render its config).
export { bundleAgent } from "./bundle";
export { agentConfigSchema, parseAgentConfig, CONFIG_PATH, ENV_PATH, type AgentConfig } from "./config";
export { EXIT } from "./agent";
