import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff";

describe("reconnect back-off", () => {
  it("starts near half a second and doubles", () => {
    expect(backoffDelay(0, 0.5)).toBe(500);
    expect(backoffDelay(1, 0.5)).toBe(1000);
    expect(backoffDelay(3, 0.5)).toBe(4000);
  });

  it("never waits more than 10 s, however many retries (it retries forever)", () => {
    for (const retries of [5, 10, 50, 1000, Number.MAX_SAFE_INTEGER]) {
      for (const r of [0, 0.3, 0.999]) expect(backoffDelay(retries, r)).toBeLessThanOrEqual(10_000);
    }
    expect(backoffDelay(1000, 0.999)).toBe(10_000);
  });

  it("jitters by ±50 % so that clients do not come back in step", () => {
    expect(backoffDelay(2, 0)).toBe(1000);
    expect(backoffDelay(2, 0.999)).toBe(Math.round(2000 * 1.499));
  });
});
