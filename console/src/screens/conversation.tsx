// One conversation: header actions (assign, status, AI take-over), the
// transcript (windowed), and the composer.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { signal } from "@preact/signals";
import { gql, ApiError, describeError } from "../lib/api";
import { subscribe, reconnects } from "../lib/ws";
import { siteId, session, isStaff } from "../lib/session";
import {
  ConversationDocument,
  TranscriptPageDocument,
  ConversationEventsDocument,
  TypingDocument,
  AssignToMeDocument,
  AssignConversationDocument,
  UnassignDocument,
  SetStatusDocument,
  TakeOverDocument,
  ReleaseDocument,
  WatchDocument,
  SpecialRequestDocument,
  AssignablesDocument,
  type InboxRowFragment,
  type MessageFieldsFragment,
  type SpecialRequestKind,
  type AssignablesQuery,
} from "../gql/generated";
import { mergeMessages } from "../lib/merge";
import { download } from "../lib/download";
import { transcriptWindow } from "../lib/vlist";
import { TypingIndicator } from "../lib/typing";
import { clockTime, dateTime } from "../lib/format";
import { Composer, composerFocus, type TakeOverMode } from "./composer";
import { IconBot, IconCheck, IconDownload, IconEye } from "../ui/icons";
import { shortcuts } from "../lib/shortcuts";

const PAGE = 100;
const MAX_PAGES = 50;
const WINDOW = 80;

export type ConversationRow = InboxRowFragment & { noteCount?: number };

/** The open conversation's row, for the list and the visitor panel. */
export const openConversation = signal<ConversationRow | null>(null);

export function ConversationPane(props: { id: string; onChange: (row: ConversationRow) => void }) {
  const { id } = props;
  const [conv, setConv] = useState<ConversationRow | null>(null);
  const [messages, setMessages] = useState<MessageFieldsFragment[]>([]);
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ tone: "error" | "info"; text: string } | null>(null);
  const [shown, setShown] = useState(WINDOW);
  const [watching, setWatching] = useState(false);
  const cursor = useRef<string | null>(null);
  const msgsRef = useRef<MessageFieldsFragment[]>([]);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const loadedOnce = useRef(false);
  /** scrollHeight before earlier messages were added above. */
  const grewFrom = useRef<number | null>(null);

  const apply = (incoming: readonly MessageFieldsFragment[]) => {
    if (!incoming.length) return;
    msgsRef.current = mergeMessages(msgsRef.current, incoming);
    setMessages(msgsRef.current);
  };
  const applyRow = (row: ConversationRow) => {
    setConv((old) => ({ ...(old ?? {}), ...row }));
    openConversation.value = { ...(openConversation.value?.id === row.id ? openConversation.value : {}), ...row };
    props.onChange(row);
  };

  /** Reads the transcript from `cursor` to its end (pages of 100). */
  async function readOn(cancelled: () => boolean) {
    for (let i = 0; i < MAX_PAGES; i++) {
      const data = await gql(TranscriptPageDocument, { id, first: PAGE, after: cursor.current });
      if (cancelled() || !data.conversation) return;
      const page = data.conversation.messages;
      apply(page.nodes);
      if (page.pageInfo.endCursor) cursor.current = page.pageInfo.endCursor;
      if (!page.pageInfo.hasNextPage) {
        setComplete(true);
        return;
      }
    }
  }

  useEffect(() => {
    let cancelled = false;
    const isCancelled = () => cancelled;
    msgsRef.current = [];
    cursor.current = null;
    setMessages([]);
    setConv(null);
    setError(null);
    setNotice(null);
    setComplete(false);
    setShown(WINDOW);
    setWatching(false);
    stick.current = true;
    loadedOnce.current = false;
    openConversation.value = null;
    gql(ConversationDocument, { id, first: PAGE, after: null })
      .then(async (data) => {
        if (cancelled) return;
        if (!data.conversation) {
          setError("This conversation does not exist.");
          return;
        }
        const { messages: page, ...row } = data.conversation;
        applyRow(row);
        apply(page.nodes);
        cursor.current = page.pageInfo.endCursor ?? null;
        loadedOnce.current = true;
        if (page.pageInfo.hasNextPage) await readOn(isCancelled);
        else setComplete(true);
      })
      .catch((e) => !cancelled && setError(describeError(e)));
    const stop = subscribe(ConversationEventsDocument, { id }, {
      next: (data) => {
        if (cancelled) return;
        const push = data.conversationEvents;
        applyRow(push.conversation);
        apply(push.messages);
        // The visitor's message is what their typing was.
        if (push.messages.some((m) => m.author.type === "VISITOR")) typingIndicator.current?.drop("visitor");
      },
      error: (e) => !cancelled && setNotice({ tone: "error", text: `Live updates of this conversation stopped: ${e.message}. Reload to retry.` }),
    });
    return () => {
      cancelled = true;
      stop();
    };
  }, [id]);

  // "Visitor is typing…" (and other agents' replies being typed).
  const [typingLabels, setTypingLabels] = useState<string[]>([]);
  const typingIndicator = useRef<TypingIndicator | null>(null);
  useEffect(() => {
    const indicator = new TypingIndicator(session.value!.agent.id, setTypingLabels);
    typingIndicator.current = indicator;
    const stop = subscribe(TypingDocument, { id }, { next: (data) => indicator.push(data.typing) });
    return () => {
      stop();
      indicator.clear();
      typingIndicator.current = null;
      setTypingLabels([]);
    };
  }, [id]);

  // After a reconnect: read what was posted while the socket was down,
  // from the last page's cursor (the snapshot holds only the newest 50).
  const reconnected = reconnects.value;
  useEffect(() => {
    if (reconnected === 0 || !loadedOnce.current) return;
    let cancelled = false;
    readOn(() => cancelled).catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [reconnected]);

  // Keep the newest message in view unless the agent scrolled up.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [messages.length, conv?.id]);

  // Earlier messages shown above: keep what the agent was reading in place.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && grewFrom.current !== null) {
      el.scrollTop += el.scrollHeight - grewFrom.current;
      grewFrom.current = null;
    }
  }, [shown]);

  const showEarlier = () => {
    grewFrom.current = scroller.current?.scrollHeight ?? null;
    setShown((s) => s + 100);
  };

  const me = session.value!.agent;
  async function act(run: () => Promise<ConversationRow>, done?: string) {
    setNotice(null);
    try {
      applyRow(await run());
      if (done) setNotice({ tone: "info", text: done });
    } catch (e) {
      if (e instanceof ApiError && e.code === "CONFLICT") {
        const who = e.holder?.name;
        setNotice({ tone: "error", text: who && !e.message.includes(who) ? `${e.message} (${who})` : e.message });
      } else setNotice({ tone: "error", text: describeError(e) });
    }
  }

  const assignToMe = () => act(async () => (await gql(AssignToMeDocument, { id })).assignToMe);
  const setDone = (status: "DONE" | "UNRESOLVED") => act(async () => (await gql(SetStatusDocument, { id, status })).setConversationStatus);

  // a = assign to me, Alt+d = Done, c or / = the composer.
  useEffect(() => {
    const offs = [
      shortcuts.on("assign-to-me", () => void assignToMe()),
      shortcuts.on("done", () => void setDone("DONE")),
      shortcuts.on("focus-composer", () => composerFocus.value++),
    ];
    return () => offs.forEach((off) => off());
  }, [id]);

  if (error)
    return (
      <section class="conversation" aria-label="Conversation">
        <p class="form-error" role="alert">
          {error}
        </p>
      </section>
    );
  if (!conv)
    return (
      <section class="conversation" aria-label="Conversation" aria-busy="true">
        <p class="muted pad">Loading the conversation…</p>
      </section>
    );

  const mine = conv.assignee?.kind === "AGENT" && conv.assignee.id === me.id;
  const heldByMe = conv.takenOverBy?.agentId === me.id;
  const mode: TakeOverMode = !conv.takenOverBy ? "ai" : heldByMe ? "mine" : "other";
  const visitor = conv.visitorName ?? conv.visitorEmail ?? "Visitor";
  const total = messages.length;
  const win = transcriptWindow(total, shown);
  const visible = messages.slice(win.from);

  return (
    <section class={`conversation conv-${mode}`} aria-label={`Conversation with ${visitor}`} data-mode={mode}>
      <header class="conv-header">
        <div class="conv-title">
          <h2>{visitor}</h2>
          <div class="conv-meta">
            <StatusChip status={conv.status} />
            <span class="muted">{conv.provider === "WEB_CHAT" ? "Web chat" : conv.provider === "FACEBOOK" ? "Facebook" : "API"}</span>
            <span class="muted">· opened {dateTime(conv.createdAt)}</span>
          </div>
        </div>
        <div class="conv-actions">
          <AssignControls conv={conv} mine={mine} onAssignToMe={assignToMe} act={act} />
          <div class="segmented" role="group" aria-label="Status">
            <button type="button" class={conv.status === "UNRESOLVED" ? "on" : ""} aria-pressed={conv.status === "UNRESOLVED"} onClick={() => setDone("UNRESOLVED")}>
              Unresolved
            </button>
            <button type="button" class={`done ${conv.status === "DONE" ? "on" : ""}`} aria-pressed={conv.status === "DONE"} onClick={() => setDone("DONE")} data-testid="done">
              <IconCheck /> Done
            </button>
          </div>
          <button
            type="button"
            class="btn btn-ghost"
            title="Export the transcript as CSV (notes included; the export is audited)"
            onClick={() =>
              download(`/reports/transcript.csv?conversationId=${encodeURIComponent(id)}`, `transcript-${id}.csv`).catch((e) =>
                setNotice({ tone: "error", text: `The export failed: ${describeError(e)}` }),
              )
            }
          >
            <IconDownload /> CSV
          </button>
        </div>
      </header>

      <AiBar
        conv={conv}
        heldByMe={heldByMe}
        watching={watching}
        onWatch={() => act(async () => (await gql(WatchDocument, { id })).watchConversation, "Watching silently: the AI keeps answering and the visitor is not told.").then(() => setWatching(true))}
        onTakeOver={() => act(async () => (await gql(TakeOverDocument, { id })).takeOver)}
        onRelease={() => act(async () => (await gql(ReleaseDocument, { id })).release)}
        canRelease={heldByMe || isStaff.value}
      />

      {notice ? (
        <div class={`notice notice-${notice.tone}`} role={notice.tone === "error" ? "alert" : "status"} data-testid="conv-notice">
          <span>{notice.text}</span>
          <button type="button" class="icon-btn" aria-label="Dismiss" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      ) : null}

      <div
        class="transcript"
        ref={scroller}
        tabIndex={0}
        aria-label="Transcript"
        onScroll={(e) => {
          const el = e.currentTarget as HTMLDivElement;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
          // Near the top: render the next 100 earlier messages.
          if (el.scrollTop < 120 && win.hidden > 0 && grewFrom.current === null) showEarlier();
        }}
      >
        {win.hidden > 0 ? (
          <button type="button" class="btn btn-ghost show-earlier" onClick={showEarlier}>
            Show {Math.min(100, win.hidden)} earlier of {win.hidden}
          </button>
        ) : !complete && total > 0 ? (
          <p class="muted center small">Loading earlier messages…</p>
        ) : null}
        <ol class="messages" aria-live="polite" aria-relevant="additions">
          {visible.map((m) => (
            <MessageItem key={m.id} m={m} />
          ))}
        </ol>
      </div>
      <p class="typing muted" aria-live="polite" data-testid="typing">
        {typingLabels.join(" · ")}
      </p>

      <SpecialRequests onSend={(kind, label) => act(async () => (await gql(SpecialRequestDocument, { id, kind })).sendSpecialRequest, `${label} request sent to the visitor.`)} />
      <Composer
        conversationId={id}
        mode={mode}
        holder={conv.takenOverBy?.displayName ?? null}
        takeOver={async () => {
          const row = (await gql(TakeOverDocument, { id })).takeOver;
          applyRow(row);
        }}
        onSent={(row) => applyRow(row)}
        onMessage={(m) => apply([m])}
      />
    </section>
  );
}

function StatusChip(props: { status: string }) {
  const label = props.status === "UNREAD" ? "Unread" : props.status === "UNRESOLVED" ? "Unresolved" : "Done";
  return <span class={`chip chip-${props.status.toLowerCase()}`}>{label}</span>;
}

function AssignControls(props: { conv: ConversationRow; mine: boolean; onAssignToMe: () => void; act: (run: () => Promise<ConversationRow>) => Promise<void> }) {
  const { conv } = props;
  const [options, setOptions] = useState<AssignablesQuery | null>(null);
  const site = siteId.value;
  const load = () => {
    if (!options) gql(AssignablesDocument, { siteId: site }).then(setOptions).catch(() => {});
  };
  return (
    <div class="assign">
      <span class="assignee" data-testid="assignee">
        {conv.assignee ? (
          <>
            <span class="muted">{conv.assignee.kind === "TEAM" ? "Team" : "Assigned to"}</span> <strong>{props.mine ? "you" : conv.assignee.name}</strong>
          </>
        ) : (
          <span class="muted">Unassigned</span>
        )}
      </span>
      {!props.mine ? (
        <button type="button" class="btn btn-primary" onClick={props.onAssignToMe} data-testid="assign-to-me">
          Assign to me
        </button>
      ) : null}
      <label class="visually-hidden" for={`assign-${conv.id}`}>
        Assign to an agent or team
      </label>
      <select
        id={`assign-${conv.id}`}
        class="select"
        onFocus={load}
        onMouseDown={load}
        value=""
        onChange={(e) => {
          const v = e.currentTarget.value;
          e.currentTarget.value = "";
          if (!v) return;
          if (v === "unassign") void props.act(async () => (await gql(UnassignDocument, { id: conv.id })).unassign);
          else {
            const [kind, target] = v.split(":") as [string, string];
            const reassign = conv.assignee?.kind === "AGENT" && isStaff.value;
            void props.act(async () => (await gql(AssignConversationDocument, { id: conv.id, agentId: kind === "agent" ? target : null, teamId: kind === "team" ? target : null, reassign })).assignConversation);
          }
        }}
      >
        <option value="">Assign…</option>
        {options ? (
          <>
            <optgroup label="Agents">
              {options.agents.map((a) => (
                <option value={`agent:${a.id}`} key={a.id}>
                  {a.displayName} ({a.presence.toLowerCase()})
                </option>
              ))}
            </optgroup>
            <optgroup label="Teams">
              {options.teams.map((t) => (
                <option value={`team:${t.id}`} key={t.id}>
                  {t.name}
                </option>
              ))}
            </optgroup>
          </>
        ) : (
          <option disabled>Loading…</option>
        )}
        {conv.assignee ? <option value="unassign">Unassign</option> : null}
      </select>
    </div>
  );
}

function AiBar(props: { conv: ConversationRow; heldByMe: boolean; watching: boolean; canRelease: boolean; onWatch: () => void; onTakeOver: () => void; onRelease: () => void }) {
  const { conv } = props;
  if (conv.takenOverBy) {
    const name = conv.takenOverBy.displayName;
    return (
      <div class={`ai-bar ${props.heldByMe ? "ai-bar-mine" : "ai-bar-other"}`} data-testid="ai-bar" role="status">
        <span class="live-badge" data-testid="live-agent">
          Live agent · {name}
        </span>
        <strong class="ai-bar-text">
          {props.heldByMe
            ? "You have taken over. The AI is silent until you leave; the visitor sees your name."
            : `${name} has taken over. The AI is silent; the visitor sees ${name}. Your replies would go out under your own name.`}
        </strong>
        <span class="spacer" />
        {props.canRelease ? (
          <button type="button" class="btn" onClick={props.onRelease} data-testid="release">
            {props.heldByMe ? "Leave · hand back to the AI" : `Release ${name}`}
          </button>
        ) : null}
      </div>
    );
  }
  return (
    <div class="ai-bar ai-bar-ai" data-testid="ai-bar" role="status">
      <span class="ai-badge" data-testid="ai-handled">
        <IconBot /> {conv.aiActive ? "The AI is answering this visitor" : "AI paused"}
      </span>
      {conv.humanRequested ? <span class="chip chip-warn">Visitor asked for a human</span> : null}
      <span class="spacer" />
      <button type="button" class="btn btn-ghost" onClick={props.onWatch} disabled={props.watching} title="Open silently: the AI keeps answering, the visitor is not told">
        <IconEye /> {props.watching ? "Watching" : "Watch"}
      </button>
      <button type="button" class="btn btn-primary" onClick={props.onTakeOver} data-testid="take-over">
        Take over
      </button>
    </div>
  );
}

const SPECIAL: [SpecialRequestKind, string][] = [
  ["CO_BROWSING", "Co-browsing"],
  ["AUDIO_CALL", "Call"],
  ["VIDEO_CALL", "Video"],
  ["REQUEST_DESKTOP", "Their screen"],
  ["SHOW_SCREEN", "Show my screen"],
  ["CONFERENCE", "Conference"],
];

function SpecialRequests(props: { onSend: (kind: SpecialRequestKind, label: string) => void }) {
  return (
    <div class="special" role="toolbar" aria-label="Send the visitor a request">
      <span class="muted small">Request:</span>
      {SPECIAL.map(([kind, label]) => (
        <button type="button" class="btn btn-small btn-ghost" key={kind} onClick={() => props.onSend(kind, label)}>
          {label}
        </button>
      ))}
    </div>
  );
}

function safeUrl(reference: string): string | null {
  try {
    const u = new URL(reference);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

export function MessageItem(props: { m: MessageFieldsFragment }) {
  const { m } = props;
  const kind = m.internal ? "note" : m.author.type.toLowerCase();
  const who = m.internal
    ? `${m.author.name ?? "Agent"}`
    : m.author.type === "VISITOR"
      ? "Visitor"
      : m.author.type === "BOT"
        ? `AI · ${m.author.name ?? "Assistant"}`
        : m.author.type === "SYSTEM"
          ? "Livedesk"
          : (m.author.name ?? "Agent");
  const attachments = useMemo(() => m.attachments.map((a) => ({ ...a, url: safeUrl(a.reference) })), [m.attachments]);
  if (m.author.type === "SYSTEM" && !m.internal) {
    return (
      <li class="msg msg-system" data-author="system" data-id={m.id}>
        <span>{m.body}</span> <time dateTime={m.at}>{clockTime(m.at)}</time>
      </li>
    );
  }
  return (
    <li class={`msg msg-${kind}`} data-author={m.author.type.toLowerCase()} data-internal={m.internal ? "true" : "false"} data-id={m.id}>
      {m.internal ? <div class="note-label">Internal note — not sent to the visitor</div> : null}
      <div class="msg-head">
        {m.author.type === "BOT" ? <IconBot /> : null}
        <span class="msg-author">{who}</span>
        <time dateTime={m.at} title={dateTime(m.at)}>
          {clockTime(m.at)}
        </time>
      </div>
      <div class="msg-body">{m.body}</div>
      {attachments.length ? (
        <ul class="attachments">
          {attachments.map((a, i) => (
            <li key={i}>
              <span class="chip">{a.kind.toLowerCase()}</span>{" "}
              {a.url ? (
                <a href={a.url} target="_blank" rel="noopener noreferrer">
                  {a.reference}
                </a>
              ) : (
                <span>{a.reference}</span>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}
