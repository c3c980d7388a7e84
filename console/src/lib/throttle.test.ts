import { describe, expect, it, vi } from "vitest";
import { throttled } from "./throttle";

describe("throttled", () => {
  it("runs at once, folds a burst into one trailing call, and never overlaps", async () => {
    vi.useFakeTimers();
    let calls = 0;
    let inFlight = 0;
    let overlapped = false;
    const run = throttled(async () => {
      calls++;
      inFlight++;
      if (inFlight > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 300));
      inFlight--;
    }, 1000);
    run();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    for (let i = 0; i < 50; i++) run();
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(2);
    expect(overlapped).toBe(false);
    vi.useRealTimers();
  });
});
