// The inbox: folders, filters, the live list (virtualised, paged), the
// open conversation and the visitor panel.
import { useEffect, useMemo, useState } from "preact/hooks";
import { signal } from "@preact/signals";
import { navigate } from "../lib/router";
import { siteId, session } from "../lib/session";
import { InboxList, filterKey, type InboxFilter } from "../lib/inbox-store";
import type { ConversationOrder, Provider, StatusFilter } from "../gql/generated";
import { VirtualList } from "../ui/vlist";
import { Link } from "../ui/shell";
import { shortcuts, stepIndex } from "../lib/shortcuts";
import { shortAgo, dueIn, initials } from "../lib/format";
import { ConversationPane, type ConversationRow } from "./conversation";
import { VisitorPanel } from "./visitor";
import { folderCounts } from "../ui/folders";
import { useNow } from "../ui/clock";

const assignedToMe = signal(false);
const provider = signal<Provider | null>(null);
const order = signal<ConversationOrder>("NEWEST");
const search = signal("");

const FOLDERS: [string, StatusFilter, string][] = [
  ["unread", "UNREAD", "Unread"],
  ["unresolved", "UNRESOLVED", "Unresolved"],
  ["done", "DONE", "Done"],
  ["all", "ALL", "All"],
];

const ROW = 86;

export function InboxScreen(props: { folder: string; conversationId: string | null }) {
  const site = siteId.value;
  const status = (FOLDERS.find((f) => f[0] === props.folder)?.[1] ?? "UNREAD") as StatusFilter;
  const [typed, setTyped] = useState(search.value);
  useEffect(() => {
    const t = setTimeout(() => (search.value = typed), 250);
    return () => clearTimeout(t);
  }, [typed]);

  const filter: InboxFilter = { status, assignedToMe: assignedToMe.value, provider: provider.value, search: search.value, order: order.value };
  const key = filterKey(filter);
  const list = useMemo(() => new InboxList(site, filter, true), [site, key]);
  useEffect(() => {
    list.start();
    return () => list.dispose();
  }, [list]);

  const rows = list.rows.value;
  const selected = props.conversationId;
  const index = selected ? rows.findIndex((r) => r.id === selected) : -1;
  const open = (id: string) => navigate(`/inbox/${props.folder}/${id}`);

  // j / k: next / previous conversation.
  useEffect(() => {
    const step = (direction: 1 | -1) => () => {
      const current = list.rows.value;
      const at = selected ? current.findIndex((r) => r.id === selected) : -1;
      const row = current[stepIndex(at, current.length, direction)];
      if (row) open(row.id);
    };
    const offNext = shortcuts.on("next", step(1));
    const offPrevious = shortcuts.on("previous", step(-1));
    return () => {
      offNext();
      offPrevious();
    };
  }, [list, selected, props.folder]);

  const counts = folderCounts.value;
  const now = useNow(30_000);
  const me = session.value!.agent.id;

  return (
    <main class={`inbox${selected ? " has-conversation" : ""}`} id="main">
      <section class="inbox-list" aria-label="Conversations">
        <header class="list-header">
          <h1 class="visually-hidden">Inbox</h1>
          <nav class="folders" aria-label="Folders">
            {FOLDERS.map(([slug, st, label]) => {
              const c = counts ? { UNREAD: counts.unread, UNRESOLVED: counts.unresolved, DONE: counts.done, ALL: counts.all }[st] : null;
              return (
                <Link key={slug} href={`/inbox/${slug}`} class={`folder${slug === props.folder ? " active" : ""}`} aria-current={slug === props.folder ? "page" : undefined}>
                  {label}
                  {c != null ? <span class="count" data-testid={`count-${slug}`}>{c}</span> : null}
                </Link>
              );
            })}
          </nav>
          <div class="filters">
            <label class="visually-hidden" for="inbox-search">
              Search visitors in this folder
            </label>
            <input id="inbox-search" class="input" type="search" placeholder="Search by visitor name or email" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
            <div class="filter-row">
              <label class="switch">
                <input type="checkbox" checked={assignedToMe.value} onChange={(e) => (assignedToMe.value = e.currentTarget.checked)} />
                <span>Assigned to me</span>
              </label>
              <label class="visually-hidden" for="inbox-provider">
                Provider
              </label>
              <select id="inbox-provider" class="select select-small" value={provider.value ?? ""} onChange={(e) => (provider.value = (e.currentTarget.value || null) as Provider | null)}>
                <option value="">All providers</option>
                <option value="WEB_CHAT">Web chat</option>
                <option value="FACEBOOK">Facebook</option>
                <option value="API">API</option>
              </select>
              <label class="visually-hidden" for="inbox-order">
                Order
              </label>
              <select id="inbox-order" class="select select-small" value={order.value} onChange={(e) => (order.value = e.currentTarget.value as ConversationOrder)}>
                <option value="NEWEST">Newest</option>
                <option value="SLA">SLA due</option>
              </select>
            </div>
          </div>
        </header>
        {list.error.value ? (
          <p class="form-error pad" role="alert">
            {list.error.value}
          </p>
        ) : null}
        {!list.loaded.value ? (
          <p class="muted pad" aria-busy="true">
            Loading…
          </p>
        ) : rows.length === 0 ? (
          <p class="empty pad">{search.value ? "No visitor matches in this folder." : "Nothing here. Well done."}</p>
        ) : (
          <VirtualList
            items={rows}
            rowHeight={ROW}
            label={`${FOLDERS.find((f) => f[0] === props.folder)?.[2] ?? ""} conversations`}
            activeIndex={index}
            onNearEnd={() => void list.more()}
            row={(r, i) => <InboxRowItem key={r.id} r={r} i={i} active={r.id === selected} folder={props.folder} now={now} me={me} />}
          />
        )}
      </section>
      {selected ? (
        <>
          <ConversationPane id={selected} onChange={(row: ConversationRow) => list.upsert(row)} />
          <VisitorPanel />
        </>
      ) : (
        <section class="conversation conversation-empty" aria-label="Conversation">
          <p class="muted">Choose a conversation. Press <kbd>j</kbd> / <kbd>k</kbd> to move, <kbd>?</kbd> for all shortcuts.</p>
        </section>
      )}
    </main>
  );
}

function InboxRowItem(props: { r: ConversationRow; i: number; active: boolean; folder: string; now: number; me: string }) {
  const { r } = props;
  const name = r.visitorName ?? r.visitorEmail ?? "Visitor";
  const sla = r.slaBreached ? { cls: "badge-breached", text: "SLA breached" } : r.slaDueAt ? (() => {
    const d = dueIn(r.slaDueAt!, props.now);
    return { cls: d.overdue ? "badge-breached" : "badge-due", text: d.overdue ? `SLA ${d.label} over` : `SLA in ${d.label}` };
  })() : null;
  return (
    <li class={`inbox-row${props.active ? " active" : ""}${r.status === "UNREAD" ? " unread" : ""}`} data-id={r.id} data-status={r.status}>
      <Link href={`/inbox/${props.folder}/${r.id}`} class="inbox-row-link" aria-current={props.active ? "page" : undefined}>
        <span class="avatar" aria-hidden="true">
          {initials(name)}
        </span>
        <span class="row-main">
          <span class="row-top">
            <span class="row-name">{name}</span>
            <time class="row-time" dateTime={r.lastMessageAt ?? r.updatedAt}>
              {shortAgo(r.lastMessageAt ?? r.updatedAt, props.now)}
            </time>
          </span>
          <span class="row-preview">
            {r.lastMessageAuthor === "AGENT" ? "You: " : r.lastMessageAuthor === "BOT" ? "AI: " : ""}
            {r.lastMessagePreview ?? ""}
          </span>
          <span class="row-tags">
            {r.takenOverBy ? <span class="tag tag-human">Live · {r.takenOverBy.displayName}</span> : <span class="tag tag-ai">AI</span>}
            {r.assignee ? <span class="tag">{r.assignee.kind === "AGENT" && r.assignee.id === props.me ? "Me" : r.assignee.name}</span> : <span class="tag tag-muted">Unassigned</span>}
            {sla ? <span class={`tag ${sla.cls}`}>{sla.text}</span> : null}
            {r.unreadCount > 0 ? <span class="tag tag-unread" title={`${r.unreadCount} unanswered`}>
                {r.unreadCount}
                <span class="visually-hidden"> unanswered</span>
              </span> : null}
          </span>
        </span>
      </Link>
    </li>
  );
}
