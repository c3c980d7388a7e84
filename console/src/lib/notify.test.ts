import { describe, expect, it } from "vitest";
import { Coalescer, documentTitle, summarize, type Incoming } from "./notify";

const n = (conversationId: string, kind: Incoming["kind"] = "NEW_MESSAGE", visitor = `V${conversationId}`): Incoming => ({ conversationId, kind, visitor, preview: `hi from ${conversationId}` });

describe("coalesced notifications", () => {
  it("one message: its visitor and text, opening its conversation", () => {
    expect(summarize([n("1", "NEW_CONVERSATION", "Ana")])).toMatchObject({ title: "New conversation · Ana", body: "hi from 1", conversationId: "1", count: 1, newConversations: 1 });
  });

  it("a burst in one conversation is one notification with a count", () => {
    const s = summarize([n("1"), n("1"), n("1")])!;
    expect(s.body).toMatch(/^3 new messages/);
    expect(s.conversationId).toBe("1");
  });

  it("hundreds in many conversations are one summary (no conversation to open)", () => {
    const batch = Array.from({ length: 300 }, (_, i) => n(String(i % 40), "NEW_CONVERSATION"));
    const s = summarize(batch)!;
    expect(s.title).toBe("40 new conversations");
    expect(s.conversationId).toBeNull();
    expect(s.body).toMatch(/and 37 more$/);
  });

  it("nothing for an empty batch", () => {
    expect(summarize([])).toBeNull();
  });

  it("the coalescer flushes once per window", () => {
    const flushed: Incoming[][] = [];
    let run: (() => void) | null = null;
    const c = new Coalescer(1000, (b) => flushed.push(b), ((fn: () => void) => {
      run = fn;
      return 0 as unknown as ReturnType<typeof setTimeout>;
    }) as never);
    c.push(n("1"));
    c.push(n("2"));
    expect(flushed).toHaveLength(0);
    run!();
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toHaveLength(2);
    c.push(n("3"));
    run!();
    expect(flushed.map((b) => b.length)).toEqual([2, 1]);
  });

  it("the tab title carries the unread count", () => {
    expect(documentTitle("Inbox", 0)).toBe("Inbox · Livedesk");
    expect(documentTitle("Inbox", 3)).toBe("(3) Inbox · Livedesk");
    expect(documentTitle("Inbox", 250)).toBe("(99+) Inbox · Livedesk");
  });
});

describe("the coalescer's default timer", () => {
  it("calls setTimeout unbound (a bound call throws 'Illegal invocation' in browsers)", async () => {
    const original = globalThis.setTimeout;
    let calledWith: unknown = "unset";
    // A setTimeout that, like the browser's, refuses a foreign `this`.
    globalThis.setTimeout = function (this: unknown, fn: () => void) {
      calledWith = this;
      if (this !== undefined && this !== globalThis) throw new TypeError("Illegal invocation");
      fn();
      return 0;
    } as unknown as typeof setTimeout;
    try {
      const flushed: Incoming[][] = [];
      new Coalescer(10, (b) => flushed.push(b)).push(n("1"));
      expect(flushed).toHaveLength(1);
      expect(calledWith === undefined || calledWith === globalThis).toBe(true);
    } finally {
      globalThis.setTimeout = original;
    }
  });
});
