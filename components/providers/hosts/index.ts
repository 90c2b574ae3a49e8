export * from "./machines";
