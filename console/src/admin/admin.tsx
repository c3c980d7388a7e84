// Admin (admins and supervisors; the API refuses the others and its
// FORBIDDEN message is shown). Lazy-loaded: agents never download it.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { gql, describeError, ApiError } from "../lib/api";
import { siteId } from "../lib/session";
import { Link } from "../ui/shell";
import { Teams, TextBlocks, Fields, Settings } from "./site";
import { Sla, Routing } from "./rules";
import { Tokens, Audit, Report } from "./records";

export const SECTIONS: [string, string][] = [
  ["teams", "Teams and members"],
  ["text-blocks", "Text blocks"],
  ["fields", "Additional information"],
  ["settings", "Site settings"],
  ["sla", "SLA and business hours"],
  ["routing", "Routing and auto-assignment"],
  ["tokens", "API tokens"],
  ["audit", "Audit log"],
  ["report", "SLA report"],
];

export function AdminScreen(props: { section: string }) {
  const found = SECTIONS.find(([s]) => s === props.section);
  const site = siteId.value;
  let body: ComponentChildren;
  switch (props.section) {
    case "teams": body = <Teams site={site} />; break;
    case "text-blocks": body = <TextBlocks site={site} />; break;
    case "fields": body = <Fields site={site} />; break;
    case "settings": body = <Settings site={site} />; break;
    case "sla": body = <Sla site={site} />; break;
    case "routing": body = <Routing site={site} />; break;
    case "tokens": body = <Tokens site={site} />; break;
    case "audit": body = <Audit site={site} />; break;
    case "report": body = <Report site={site} />; break;
    default: body = <p>There is no admin section “{props.section}”.</p>;
  }
  return (
    <main class="admin" id="main">
      <nav class="admin-nav" aria-label="Admin sections">
        <h1>Admin</h1>
        <ul>
          {SECTIONS.map(([s, label]) => (
            <li key={s}>
              <Link href={`/admin/${s}`} aria-current={s === props.section ? "page" : undefined}>
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div class="admin-body">
        <h2>{found?.[1] ?? "Admin"}</h2>
        {body}
      </div>
    </main>
  );
}

/** Loads once per `deps`; shows the API's error (FORBIDDEN included). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let cancelled = false;
    setError(null);
    load()
      .then((d) => !cancelled && setData(d))
      .catch((e) => !cancelled && setError(e instanceof ApiError && e.code === "FORBIDDEN" ? `Not allowed: ${e.message}` : describeError(e)));
    return () => {
      cancelled = true;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

export function Problem(props: { error: string | null }) {
  return props.error ? (
    <p class="form-error" role="alert" data-testid="admin-error">
      {props.error}
    </p>
  ) : null;
}

/** Runs a mutation, showing its error or a confirmation. */
export function useAction(): { run: (what: string, f: () => Promise<unknown>) => Promise<boolean>; status: ComponentChildren } {
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async (what: string, f: () => Promise<unknown>) => {
    setMsg(null);
    try {
      await f();
      if (what) setMsg({ ok: true, text: what });
      return true;
    } catch (e) {
      setMsg({ ok: false, text: describeError(e) });
      return false;
    }
  };
  const status = msg ? (
    <p class={msg.ok ? "form-ok" : "form-error"} role={msg.ok ? "status" : "alert"}>
      {msg.text}
    </p>
  ) : null;
  return { run, status };
}

export { gql };
