export * from "./executor";
export * from "./known-hosts";
export { type Argv, shellJoin, shellQuote } from "../../roles/shell";
