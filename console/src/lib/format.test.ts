import { describe, expect, it } from "vitest";
import { activeSeconds, dueIn, flagEmoji, formatDuration, initials, shortAgo } from "./format";

describe("formatting", () => {
  it("time active", () => {
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(187)).toBe("3:07");
    expect(formatDuration(3729)).toBe("1:02:09");
    expect(activeSeconds(10, 1000, 6500)).toBe(15);
  });

  it("compact ages", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(shortAgo("2026-01-01T11:59:30Z", now)).toBe("now");
    expect(shortAgo("2026-01-01T11:55:00Z", now)).toBe("5m");
    expect(shortAgo("2026-01-01T09:00:00Z", now)).toBe("3h");
    expect(shortAgo(null, now)).toBe("");
  });

  it("SLA due and overdue", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(dueIn("2026-01-01T12:12:00Z", now)).toEqual({ overdue: false, label: "12m" });
    expect(dueIn("2026-01-01T11:57:00Z", now)).toEqual({ overdue: true, label: "3m" });
  });

  it("flags only from two letters", () => {
    expect(flagEmoji("de")).toBe("🇩🇪");
    expect(flagEmoji("<b>")).toBe("");
    expect(flagEmoji(null)).toBe("");
  });

  it("initials", () => {
    expect(initials("Ana Lima Souza")).toBe("AS");
    expect(initials("")).toBe("?");
  });
});
