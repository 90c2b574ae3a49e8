/**
 * Backoff after failed orders: exponential from baseSeconds, capped at capSeconds. Let's Encrypt allows
 * 5 failed validations per hostname per account per hour; the defaults (300 s doubling, 6 h cap) allow at
 * most 4 attempts in any hour (maxAttemptsInAnyHour, and the agent-level simulation in schedule.test.ts).
 */
export interface Backoff {
  baseSeconds: number;
  capSeconds: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseSeconds: 300, capSeconds: 21600 };

/** Seconds to wait after the `failures`-th failure in a row (1 → base, 2 → 2·base, …, never above cap). Pure. */
export function backoffSeconds(failures: number, b: Backoff): number {
  if (failures <= 0) return 0;
  // 2 ** 40 already dwarfs any cap: keeps the arithmetic finite for absurd counts.
  return Math.min(b.capSeconds, b.baseSeconds * 2 ** Math.min(failures - 1, 40));
}

/**
 * The most attempts that fit in any one-hour window when every attempt fails and each retry comes as early
 * as the backoff allows (later runs only spread them further). Pure.
 */
export function maxAttemptsInAnyHour(b: Backoff, horizonSeconds = 48 * 3600): number {
  const times = [0];
  for (let f = 1; times[times.length - 1] < horizonSeconds; f++) times.push(times[times.length - 1] + backoffSeconds(f, b));
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 3600) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
