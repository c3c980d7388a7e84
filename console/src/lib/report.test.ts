import { describe, expect, it } from "vitest";
import { periodOf, reportBars } from "./report";

const r = (agentName: string | null, target: string, met: number, missed: number) => ({ agentId: agentName ? `id-${agentName}` : null, agentName, teamId: null, teamName: null, target, met, missed });

describe("the SLA report chart", () => {
  it("one bar per row of the target, worst first, empty rows left out", () => {
    const bars = reportBars([r("Ana", "FIRST_RESPONSE", 9, 1), r("Ben", "FIRST_RESPONSE", 1, 1), r("Ana", "RESOLUTION", 1, 0), r("Cy", "FIRST_RESPONSE", 0, 0), r(null, "FIRST_RESPONSE", 2, 0)], "FIRST_RESPONSE");
    expect(bars.map((b) => b.label)).toEqual(["Ben", "Ana", "Nobody"]);
    expect(bars[0]).toEqual({ label: "Ben", met: 1, missed: 1, total: 2 });
  });

  it("periods end at the next minute", () => {
    const p = periodOf(7, new Date("2026-01-08T10:00:30Z"));
    expect(p).toEqual({ days: 7, from: "2026-01-01T10:01:00.000Z", to: "2026-01-08T10:01:00.000Z" });
  });
});
