/**
 * Fencing: make sure a node can no longer act (stop it hard), and start it again.
 * One adapter per target: DigitalOcean droplet power actions, EC2 stop/start, the lab (stop the nspawn machine),
 * and for hosts without an API, an operator-confirmed manual fence.
 */
export interface PowerOperations {
  readonly describe: string;
  /** Stop the node hard (no clean shutdown): when this resolves, the node no longer runs. Idempotent. */
  fence(node: string): Promise<void>;
  /** Start a fenced node again. Idempotent. */
  start(node: string): Promise<void>;
  /** Whether the node runs now. */
  isRunning(node: string): Promise<boolean>;
}
