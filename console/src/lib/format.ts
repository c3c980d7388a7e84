/** "42s", "3:07", "1:02:09": a session's time active. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
  if (m > 0) return `${m}:${String(sec).padStart(2, "0")}`;
  return `${sec}s`;
}

/**
 * Seconds active now: the server's count when the row was received plus
 * the time since (the rows tick on one shared clock).
 */
export function activeSeconds(serverSeconds: number, receivedAtMs: number, nowMs: number): number {
  return serverSeconds + Math.max(0, Math.floor((nowMs - receivedAtMs) / 1000));
}

/** "now", "5m", "3h", "2d", or a date: compact times for list rows. */
export function shortAgo(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return "";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const s = Math.floor((nowMs - t) / 1000);
  if (s < 45) return "now";
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  if (s < 7 * 86_400) return `${Math.floor(s / 86_400)}d`;
  return new Date(t).toLocaleDateString(undefined, { day: "numeric", month: "short" });
}

/** Time until (positive) or since (negative) a due time, "12m" / "-3m". */
export function dueIn(iso: string, nowMs: number): { overdue: boolean; label: string } {
  const s = Math.round((Date.parse(iso) - nowMs) / 1000);
  const a = Math.abs(s);
  const label = a < 60 ? `${a}s` : a < 3600 ? `${Math.round(a / 60)}m` : a < 86_400 ? `${Math.floor(a / 3600)}h ${Math.round((a % 3600) / 60)}m` : `${Math.floor(a / 86_400)}d`;
  return { overdue: s < 0, label };
}

export function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** 🇩🇪 from "DE"; empty for anything that is not two letters. */
export function flagEmoji(code: string | null | undefined): string {
  if (!code || !/^[A-Za-z]{2}$/.test(code)) return "";
  const upper = code.toUpperCase();
  return String.fromCodePoint(0x1f1e6 + upper.charCodeAt(0) - 65, 0x1f1e6 + upper.charCodeAt(1) - 65);
}

let regionNames: Intl.DisplayNames | null | undefined;
export function countryName(code: string | null | undefined): string {
  if (!code) return "";
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(undefined, { type: "region" });
    } catch {
      regionNames = null;
    }
  }
  try {
    return regionNames?.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

export function initials(name: string | null | undefined): string {
  const parts = (name ?? "").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  return ((parts[0]![0] ?? "") + (parts.length > 1 ? (parts[parts.length - 1]![0] ?? "") : "")).toUpperCase();
}

/** A device class as people write it: "Desktop", "Mobile", "Unknown". */
export function deviceLabel(device: string): string {
  return device ? device[0] + device.slice(1).toLowerCase() : "Unknown";
}
