import { describe, expect, it } from "vitest";
import { nearEnd, scrollToRow, transcriptWindow, visibleRange } from "./vlist";

describe("virtual list windows", () => {
  it("renders only the rows in view plus overscan", () => {
    const r = visibleRange(7600, 600, 76, 10_000, 6);
    expect(r.start).toBe(94);
    expect(r.end).toBe(100 + Math.ceil(600 / 76) + 1 + 6);
    expect(r.offsetTop).toBe(94 * 76);
    expect(r.totalHeight).toBe(760_000);
    expect(r.end - r.start).toBeLessThan(30);
  });

  it("clamps past the end and handles an empty list", () => {
    const r = visibleRange(1e9, 600, 50, 100);
    expect(r.end).toBe(100);
    expect(visibleRange(0, 600, 50, 0)).toEqual({ start: 0, end: 0, offsetTop: 0, totalHeight: 0 });
  });

  it("scrolls a keyboard-selected row into view", () => {
    expect(scrollToRow(0, 500, 300, 50)).toBe(0);
    expect(scrollToRow(20, 0, 300, 50)).toBe(20 * 50 + 50 - 300);
    expect(scrollToRow(12, 500, 300, 50)).toBe(500);
  });

  it("asks for the next page near the end", () => {
    expect(nearEnd({ start: 0, end: 90, offsetTop: 0, totalHeight: 0 }, 100)).toBe(true);
    expect(nearEnd({ start: 0, end: 20, offsetTop: 0, totalHeight: 0 }, 100)).toBe(false);
  });

  it("renders long transcripts incrementally: the newest first", () => {
    expect(transcriptWindow(5000, 80)).toEqual({ from: 4920, hidden: 4920 });
    expect(transcriptWindow(30, 80)).toEqual({ from: 0, hidden: 0 });
  });
});
