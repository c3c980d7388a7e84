// History-API routing under /console.
import { signal } from "@preact/signals";

export const BASE = "/console";

export interface Location {
  path: string; // below /console, e.g. "/inbox/unread"
  query: URLSearchParams;
}

/** The app's path and query for a URL's pathname and search. */
export function parseLocation(pathname: string, search: string): Location {
  let path = pathname === BASE || pathname.startsWith(`${BASE}/`) ? pathname.slice(BASE.length) : pathname;
  if (path === "" || path === "/") path = "/";
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return { path, query: new URLSearchParams(search) };
}

const inBrowser = typeof window !== "undefined";

function read(): Location {
  return inBrowser ? parseLocation(location.pathname, location.search) : parseLocation("/console/", "");
}

export const route = signal<Location>(read());

if (inBrowser) {
  window.addEventListener("popstate", () => {
    route.value = read();
  });
}

/** Goes to `to` (below /console, may carry a query). */
export function navigate(to: string, replace = false): void {
  const url = BASE + to;
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  route.value = read();
}

/** The current URL below /console, to come back to after signing in. */
export function currentTarget(): string {
  const r = read();
  return r.path + (location.search || "");
}

/** Only our own paths, never an open redirect. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\") || /^\/(signin|invite|setup)(\/|\?|$)/.test(next)) return "/inbox/unread";
  return next;
}

/** Matches "/inbox/:folder/:id" style patterns. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/");
  const s = path.split("/");
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    const seg = s[i]!;
    if (part.startsWith(":")) {
      if (!seg) return null;
      params[part.slice(1)] = decodeURIComponent(seg);
    } else if (part !== seg) return null;
  }
  return params;
}
