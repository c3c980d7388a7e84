// The Live View: every live session of the site, as it changes.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { gql, describeError } from "../lib/api";
import { subscribe } from "../lib/ws";
import { siteId } from "../lib/session";
import { navigate } from "../lib/router";
import {
  LiveSessionsChangedDocument,
  LiveSessionsDocument,
  ConnectByCodeDocument,
  SendConnectionRequestDocument,
  type SessionFieldsFragment,
} from "../gql/generated";
import { applyListPush, addPage, compareSessions, emptyList, frameBatcher, sortedRows, type ListState } from "../lib/merge";
import { VirtualList } from "../ui/vlist";
import { activeSeconds, countryName, deviceLabel, flagEmoji, formatDuration, shortAgo } from "../lib/format";
import { useNow } from "../ui/clock";
import { toast } from "../ui/toast";

const LIMIT = 100;
const ROW = 64;

type Row = SessionFieldsFragment & { receivedAt: number };

function matches(r: Row, q: string): boolean {
  if (!q) return true;
  const hay = [r.visitorName, r.visitorEmail, r.code, r.currentPath, r.country ? countryName(r.country) : "", ...r.tags].join(" ").toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

export function LiveView() {
  const site = siteId.value;
  const [online, setOnline] = useState<number | null>(null);
  const [rows, setRows] = useState<readonly Row[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const state = useRef<ListState<Row>>(emptyList());
  const paging = useRef<{ cursor: string | null; busy: boolean; more: boolean }>({ cursor: null, busy: false, more: false });

  const publish = useMemo(() => frameBatcher(() => setRows(sortedRows(state.current, compareSessions))), []);
  const stamp = (list: readonly SessionFieldsFragment[]): Row[] => {
    const t = Date.now();
    return list.map((s) => ({ ...s, receivedAt: t }));
  };

  useEffect(() => {
    state.current = emptyList();
    paging.current = { cursor: null, busy: false, more: false };
    return subscribe(LiveSessionsChangedDocument, { siteId: site }, {
      next: (data) => {
        const push = data.liveSessionsChanged;
        setError(null);
        setOnline(push.onlineCount);
        state.current = applyListPush(state.current, { ...push, upserted: stamp(push.upserted) }, compareSessions, LIMIT);
        if (push.snapshot) paging.current.more = push.upserted.length >= LIMIT;
        publish();
      },
      error: (e) => setError(e.message),
    });
  }, [site]);

  // More than the snapshot's 100: page the rest in with the query.
  const loadMore = async () => {
    const p = paging.current;
    if (p.busy || !p.more) return;
    p.busy = true;
    try {
      const d = await gql(LiveSessionsDocument, { siteId: site, first: LIMIT, after: p.cursor });
      p.cursor = d.liveSessions.pageInfo.endCursor ?? p.cursor;
      p.more = d.liveSessions.pageInfo.hasNextPage;
      state.current = addPage(state.current, stamp(d.liveSessions.nodes), (inc, cur) => Date.parse(inc.lastActivityAt) > Date.parse(cur.lastActivityAt));
      publish();
    } catch (e) {
      setError(describeError(e));
    } finally {
      p.busy = false;
    }
  };

  const now = useNow(1000);
  const shown = useMemo(() => rows.filter((r) => matches(r, query.trim())), [rows, query]);

  return (
    <main class="live" id="main">
      <header class="page-header">
        <div>
          <h1>Live View</h1>
          <p class="muted" aria-live="polite">
            <span class="online-dot" aria-hidden="true" /> <strong data-testid="online-count">{online ?? "…"}</strong> online
            {query && online !== null ? ` · ${shown.length} shown` : ""}
          </p>
        </div>
        <div class="live-tools">
          <label class="visually-hidden" for="live-filter">
            Filter by tag, name, email, page or country
          </label>
          <input id="live-filter" class="input" type="search" placeholder="Filter by tag, name, page, country…" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
          <ConnectByCode site={site} />
        </div>
      </header>
      {error ? (
        <p class="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="live-table" role="table" aria-label="Live sessions" aria-rowcount={shown.length}>
        <div role="rowgroup"><div class="live-row live-head" role="row">
          <span role="columnheader">Visitor</span>
          <span role="columnheader">Page</span>
          <span role="columnheader">Device</span>
          <span role="columnheader">Location</span>
          <span role="columnheader">Active</span>
          <span role="columnheader">Messages</span>
          <span role="columnheader">Last message</span>
          <span role="columnheader">
            <span class="visually-hidden">Actions</span>
          </span>
        </div></div>
        {online === null ? (
          <p class="muted pad">Loading…</p>
        ) : shown.length === 0 ? (
          <p class="empty pad">{query ? "No session matches." : "No visitor is on the site right now."}</p>
        ) : (
          <VirtualList items={shown} rowHeight={ROW} label="Sessions" onNearEnd={loadMore} row={(r) => <SessionRow key={r.id} r={r} now={now} />} class="live-body" role="rowgroup" />
        )}
      </div>
    </main>
  );
}

function SessionRow(props: { r: Row; now: number }) {
  const { r } = props;
  const [busy, setBusy] = useState(false);
  const who = r.visitorName ?? r.visitorEmail ?? "Anonymous";
  async function request() {
    setBusy(true);
    try {
      await gql(SendConnectionRequestDocument, { sessionId: r.id });
      toast({ title: "Connection request sent", body: `${who} can accept it within 2 minutes.`, tone: "success" });
    } catch (e) {
      toast({ title: "Could not send the request", body: describeError(e), tone: "error" });
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="live-row" role="row" data-id={r.id} data-testid="live-row">
      <span role="cell" class="cell-visitor">
        <span class={`status-dot status-${r.status.toLowerCase()}`} title={r.status === "ACTIVE" ? "Active" : "Idle"} />
        <span class="visually-hidden">{r.status === "ACTIVE" ? "Active" : "Idle"}</span>
        <span class="cell-stack">
          <strong class="ellipsis">{who}</strong>
          <span class="muted small">
            {r.code ? <span class="code">{r.code}</span> : null}
            {r.tags.map((t) => (
              <span class="tag tag-small" key={t}>
                {t}
              </span>
            ))}
            {r.connectedAgent ? <span class="tag tag-human tag-small">{r.connectedAgent.displayName}</span> : null}
          </span>
        </span>
      </span>
      <span role="cell" class="cell-stack">
        <span class="ellipsis" title={r.currentTitle ?? r.currentPath}>
          {r.currentPath}
        </span>
        <span class="muted small">
          {r.pageViews} pages · {r.tabs} tab{r.tabs === 1 ? "" : "s"}
        </span>
      </span>
      <span role="cell" class="cell-stack">
        <span>{deviceLabel(r.device)}</span>
        <span class="muted small ellipsis">
          {r.os} · {r.browser}
        </span>
      </span>
      <span role="cell" class="ellipsis">
        <span aria-hidden="true">{flagEmoji(r.country)}</span> {r.country ? countryName(r.country) : "Unknown"}
      </span>
      <span role="cell" class="mono">
        {formatDuration(activeSeconds(r.timeActiveSeconds, r.receivedAt, props.now))}
      </span>
      <span role="cell" class="mono">
        {r.messageCount}
      </span>
      <span role="cell" class="cell-stack">
        <span class="ellipsis">{r.lastMessagePreview ?? "—"}</span>
        <span class="muted small">{r.lastMessageAt ? shortAgo(r.lastMessageAt, props.now) : ""}</span>
      </span>
      <span role="cell" class="cell-actions">
        {r.conversationId ? (
          <button type="button" class="btn btn-small" onClick={() => navigate(`/inbox/all/${r.conversationId}`)}>
            Open chat
          </button>
        ) : null}
        <button type="button" class="btn btn-small btn-ghost" onClick={request} disabled={busy} aria-label={`Send ${who} a connection request`}>
          Request
        </button>
      </span>
    </div>
  );
}

function ConnectByCode(props: { site: string }) {
  const [code, setCode] = useState("");
  const [msg, setMsg] = useState<{ tone: "error" | "info"; text: string } | null>(null);
  async function connect(e: Event) {
    e.preventDefault();
    if (!code.trim()) return;
    setMsg(null);
    try {
      const s = (await gql(ConnectByCodeDocument, { siteId: props.site, code: code.trim() })).connectByCode;
      if (!s) setMsg({ tone: "error", text: "No live session shares this code." });
      else {
        setMsg({ tone: "info", text: `Connected to ${s.visitorName ?? s.visitorEmail ?? "the visitor"} on ${s.currentPath}.` });
        setCode("");
        if (s.conversationId) navigate(`/inbox/all/${s.conversationId}`);
      }
    } catch (err) {
      setMsg({ tone: "error", text: describeError(err) });
    }
  }
  return (
    <form class="connect" onSubmit={connect}>
      <label class="visually-hidden" for="connect-code">
        Session code
      </label>
      <input id="connect-code" class="input input-code" placeholder="Code" value={code} onInput={(e) => setCode(e.currentTarget.value)} autoComplete="off" />
      <button class="btn" type="submit">
        Connect by code
      </button>
      {msg ? (
        <span class={msg.tone === "error" ? "form-error inline" : "muted small"} role={msg.tone === "error" ? "alert" : "status"}>
          {msg.text}
        </span>
      ) : null}
    </form>
  );
}
