import { describe, expect, it } from "vitest";
import {
  addPage,
  applyListPush,
  compareNewest,
  comparePositions,
  compareSessions,
  compareSla,
  emptyList,
  mergeMessages,
  sortedRows,
  type InboxRow,
} from "./merge";

const row = (id: string, updatedAt: string, slaDueAt: string | null = null): InboxRow => ({ id, updatedAt, slaDueAt });
const at = (minute: number) => `2026-01-01T10:${String(minute).padStart(2, "0")}:00Z`;
const msg = (id: string, position: string) => ({ id, position });

describe("list pushes", () => {
  it("a snapshot replaces every row when it holds the whole list", () => {
    let s = applyListPush(emptyList<InboxRow>(), { snapshot: true, upserted: [row("a", at(1)), row("b", at(2))], removed: [] }, compareNewest, 100);
    s = applyListPush(s, { snapshot: true, upserted: [row("b", at(3))], removed: [] }, compareNewest, 100);
    expect([...s.rows.keys()]).toEqual(["b"]);
  });

  it("a full snapshot replaces the rows inside its window and keeps the paged rows after it", () => {
    // A window of 3 (c, x, b); a and z were paged in later.
    let s = applyListPush(emptyList<InboxRow>(), { snapshot: true, upserted: [row("c", at(9)), row("x", at(8)), row("b", at(7))], removed: [] }, compareNewest, 3);
    s = addPage(s, [row("z", at(5)), row("a", at(1))], (i, c) => i.updatedAt > c.updatedAt);
    // Reconnect: x left the list while the socket was down, d is new.
    s = applyListPush(s, { snapshot: true, upserted: [row("d", at(10)), row("c", at(9)), row("b", at(7))], removed: [] }, compareNewest, 3);
    expect(sortedRows(s, compareNewest).map((r) => r.id)).toEqual(["d", "c", "b", "z", "a"]);
  });

  it("upserts move a row and removals drop it; a removed id that is unknown is ignored", () => {
    let s = applyListPush(emptyList<InboxRow>(), { snapshot: true, upserted: [row("a", at(1)), row("b", at(2))], removed: [] }, compareNewest, 100);
    s = applyListPush(s, { snapshot: false, upserted: [row("a", at(5))], removed: ["nope"] }, compareNewest, 100);
    expect(sortedRows(s, compareNewest).map((r) => r.id)).toEqual(["a", "b"]);
    s = applyListPush(s, { snapshot: false, upserted: [], removed: ["a"] }, compareNewest, 100);
    expect(sortedRows(s, compareNewest).map((r) => r.id)).toEqual(["b"]);
  });

  it("a page never overwrites a newer live row", () => {
    let s = applyListPush(emptyList<InboxRow>(), { snapshot: false, upserted: [row("a", at(9))], removed: [] }, compareNewest, 100);
    s = addPage(s, [row("a", at(1)), row("b", at(2))], (i, c) => Date.parse(i.updatedAt) > Date.parse(c.updatedAt));
    expect(s.rows.get("a")!.updatedAt).toBe(at(9));
    expect(s.rows.has("b")).toBe(true);
  });

  it("each row is held once whatever the order of pushes", () => {
    let s = emptyList<InboxRow>();
    for (let i = 0; i < 50; i++) {
      s = applyListPush(s, { snapshot: i % 10 === 0, upserted: [row(`r${i % 7}`, at(i % 60))], removed: [] }, compareNewest, 100);
    }
    const ids = sortedRows(s, compareNewest).map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("inbox order", () => {
  it("newest first by update time, then by id", () => {
    const rows = [row("a", at(1)), row("c", at(3)), row("b", at(3))];
    expect(rows.sort(compareNewest).map((r) => r.id)).toEqual(["c", "b", "a"]);
  });

  it("SLA order: soonest due first, rows without a due time last", () => {
    const rows = [row("none", at(9)), row("late", at(1), at(30)), row("soon", at(1), at(10)), row("none2", at(1))];
    expect(rows.sort(compareSla).map((r) => r.id)).toEqual(["soon", "late", "none", "none2"]);
  });

  it("sessions: newest started first", () => {
    const s = [
      { id: "a", startedAt: at(1) },
      { id: "b", startedAt: at(4) },
    ];
    expect(s.sort(compareSessions).map((x) => x.id)).toEqual(["b", "a"]);
  });
});

describe("transcript merge", () => {
  it("compares positions of any length as numbers", () => {
    expect(comparePositions("9", "10")).toBeLessThan(0);
    expect(comparePositions("123456789012345678901", "123456789012345678900")).toBeGreaterThan(0);
    expect(comparePositions("42", "42")).toBe(0);
  });

  it("appends in order and drops repeats", () => {
    const a = mergeMessages([], [msg("1", "10"), msg("2", "20")]);
    const b = mergeMessages(a, [msg("2", "20"), msg("3", "30")]);
    expect(b.map((m) => m.id)).toEqual(["1", "2", "3"]);
  });

  it("puts a late page in position order", () => {
    const live = mergeMessages([], [msg("5", "50"), msg("6", "60")]);
    const merged = mergeMessages(live, [msg("3", "30"), msg("4", "40"), msg("5", "50")]);
    expect(merged.map((m) => m.position)).toEqual(["30", "40", "50", "60"]);
  });

  it("a reconnect (snapshot of the newest, then the gap read from the cursor) shows every message once, in order", () => {
    const all = Array.from({ length: 120 }, (_, i) => msg(`m${i}`, String(1000 + i * 7)));
    // Loaded 0..59 by query, 60..64 live; then the socket dropped.
    let shown = mergeMessages([], all.slice(0, 60));
    shown = mergeMessages(shown, all.slice(60, 65));
    // Back: the snapshot holds the newest 50 (70..119) ...
    shown = mergeMessages(shown, all.slice(70, 120));
    // ... and the read from the last page cursor brings 60..119.
    shown = mergeMessages(shown, all.slice(60, 100));
    shown = mergeMessages(shown, all.slice(100, 120));
    expect(shown.map((m) => m.id)).toEqual(all.map((m) => m.id));
  });

  it("returns the same array when nothing arrives", () => {
    const a = mergeMessages([], [msg("1", "1")]);
    expect(mergeMessages(a, [])).toBe(a);
  });
});

describe("frame batching", () => {
  it("many requests in one frame run the work once", async () => {
    const { frameBatcher } = await import("./merge");
    let runs = 0;
    const queued: (() => void)[] = [];
    const publish = frameBatcher(() => runs++, (cb) => queued.push(cb));
    for (let i = 0; i < 50; i++) publish();
    expect(queued).toHaveLength(1);
    queued.shift()!();
    expect(runs).toBe(1);
    publish();
    expect(queued).toHaveLength(1);
  });
});

describe("incremental order", () => {
  it("matches a full sort after any mix of snapshots, upserts, removals and pages", () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const s = emptyList<InboxRow>();
    let previous: readonly InboxRow[] = [];
    for (let step = 0; step < 400; step++) {
      const upserted = Array.from({ length: random(4) }, () => row(`r${random(300)}`, at(random(60))));
      const removed = Array.from({ length: random(2) }, () => `r${random(300)}`);
      if (step % 97 === 0) addPage(s, Array.from({ length: 50 }, () => row(`r${random(300)}`, at(random(60)))), () => true);
      else applyListPush(s, { snapshot: step % 151 === 0, upserted, removed }, compareNewest, 100);
      const incremental = sortedRows(s, compareNewest);
      const full = [...s.rows.values()].sort(compareNewest);
      expect(incremental.map((r) => r.id)).toEqual(full.map((r) => r.id));
      if (incremental !== previous) expect(previous).not.toBe(incremental);
      previous = incremental;
    }
    // Another order sorts afresh.
    expect(sortedRows(s, compareSla).map((r) => r.id)).toEqual([...s.rows.values()].sort(compareSla).map((r) => r.id));
  });

  it("returns the same array when nothing changed, and never changes an array it returned", () => {
    const s = emptyList<InboxRow>();
    applyListPush(s, { snapshot: true, upserted: [row("a", at(1)), row("b", at(2))], removed: [] }, compareNewest, 100);
    const first = sortedRows(s, compareNewest);
    expect(sortedRows(s, compareNewest)).toBe(first);
    applyListPush(s, { snapshot: false, upserted: [row("c", at(3))], removed: ["a"] }, compareNewest, 100);
    const second = sortedRows(s, compareNewest);
    expect(second.map((r) => r.id)).toEqual(["c", "b"]);
    expect(first.map((r) => r.id)).toEqual(["b", "a"]);
  });
});
