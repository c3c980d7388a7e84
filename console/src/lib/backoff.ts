/** Reconnect delay: 0.5 s doubling per retry, capped at 10 s, with ±50 % jitter (never above 10 s). */
export function backoffDelay(retries: number, random: number): number {
  const base = Math.min(10_000, 500 * 2 ** Math.min(retries, 10));
  return Math.min(10_000, Math.round(base * (0.5 + random)));
}
