import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TYPING_IDLE_MS, TYPING_REPEAT_MS, TYPING_SHOWN_MS, TypingIndicator, TypingSender } from "./typing";

describe("TypingSender", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const sender = () => {
    const sent: boolean[] = [];
    return { sent, typing: new TypingSender((t) => sent.push(t), () => Date.now()) };
  };

  it("sends nothing at all while the composer is in Note mode", () => {
    const { sent, typing } = sender();
    for (const text of ["I", "Internal", "Internal: refund approved"]) {
      typing.input(text, true);
      vi.advanceTimersByTime(500);
    }
    vi.advanceTimersByTime(TYPING_IDLE_MS * 2);
    expect(sent).toEqual([]);
  });

  it("stops the reply's typing when the agent switches to Note, then stays silent", () => {
    const { sent, typing } = sender();
    typing.input("Hello", false);
    typing.input("Hello", true);
    typing.input("Hello, a note", true);
    vi.advanceTimersByTime(TYPING_IDLE_MS * 2);
    expect(sent).toEqual([true, false]);
  });

  it("repeats at most every 2 s while typing a reply and stops after 4 s idle", () => {
    const { sent, typing } = sender();
    for (let i = 0; i < 10; i++) {
      typing.input("x".repeat(i + 1), false);
      vi.advanceTimersByTime(500);
    }
    // 5 s of keys: at 0, 2 and 4 s.
    expect(sent).toEqual([true, true, true]);
    vi.advanceTimersByTime(TYPING_IDLE_MS);
    expect(sent).toEqual([true, true, true, false]);
  });

  it("stops on send and on an emptied box, once", () => {
    const { sent, typing } = sender();
    typing.input("Hi", false);
    typing.stop();
    typing.stop();
    typing.input("Hi", false);
    typing.input("", false);
    expect(sent).toEqual([true, false, true, false]);
    vi.advanceTimersByTime(TYPING_REPEAT_MS + TYPING_IDLE_MS);
    expect(sent.length).toBe(4);
  });
});

describe("TypingIndicator", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("shows the visitor, lapses after 6 s without a repeat, and ignores the caller's own typing", () => {
    let labels: string[] = [];
    const indicator = new TypingIndicator("me", (l) => (labels = l));
    indicator.push({ who: "AGENT", agentId: "me", agentName: "Ana", typing: true });
    expect(labels).toEqual([]);
    indicator.push({ who: "VISITOR", typing: true });
    indicator.push({ who: "AGENT", agentId: "ben", agentName: "Ben", typing: true });
    expect(labels).toEqual(["Visitor is typing…", "Ben is typing…"]);
    vi.advanceTimersByTime(TYPING_SHOWN_MS - 1000);
    indicator.push({ who: "VISITOR", typing: true });
    vi.advanceTimersByTime(1500);
    expect(labels).toEqual(["Visitor is typing…"]);
    indicator.push({ who: "VISITOR", typing: false });
    expect(labels).toEqual([]);
  });
});
