// The SLA report's chart data and period.

export interface ReportRow {
  agentId: string | null;
  agentName: string | null;
  teamId: string | null;
  teamName: string | null;
  target: string;
  met: number;
  missed: number;
}

export interface Bar {
  label: string;
  met: number;
  missed: number;
  total: number;
}

/**
 * One bar per agent (or team) for `target`, worst share met first; the row
 * of clocks with no agent (team) is labelled `nobody`.
 */
export function reportBars(rows: readonly ReportRow[], target: string, nobody = "Nobody"): Bar[] {
  const bars: Bar[] = [];
  for (const r of rows) {
    if (r.target !== target) continue;
    const total = r.met + r.missed;
    if (total === 0) continue;
    const label = r.agentName ?? r.teamName ?? (r.agentId === null && r.teamId === null ? nobody : (r.agentId ?? r.teamId ?? "?"));
    bars.push({ label, met: r.met, missed: r.missed, total });
  }
  return bars.sort((a, b) => a.met / a.total - b.met / b.total || b.total - a.total || a.label.localeCompare(b.label));
}

export interface Period {
  days: number;
  from: string;
  to: string;
}

/** The last `days` days up to the next full minute after `now`. */
export function periodOf(days: number, now: Date): Period {
  const to = new Date(Math.ceil(now.getTime() / 60_000) * 60_000);
  const from = new Date(to.getTime() - days * 86_400_000);
  return { days, from: from.toISOString(), to: to.toISOString() };
}
