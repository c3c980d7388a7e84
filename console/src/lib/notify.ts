// Coalescing notifications: many arriving at once (a burst after a
// reconnect, a campaign) become one summary, never hundreds of popups.

export interface Incoming {
  conversationId: string;
  kind: "NEW_CONVERSATION" | "NEW_MESSAGE";
  visitor: string;
  preview: string;
}

export interface Summary {
  title: string;
  body: string;
  /** The conversation to open on click: the only one, or null for many. */
  conversationId: string | null;
  count: number;
  newConversations: number;
}

/** One notification for a batch collected within the coalescing window. */
export function summarize(batch: readonly Incoming[]): Summary | null {
  if (batch.length === 0) return null;
  const conversations = new Set(batch.map((n) => n.conversationId));
  const newConversations = new Set(batch.filter((n) => n.kind === "NEW_CONVERSATION").map((n) => n.conversationId)).size;
  if (conversations.size === 1) {
    const last = batch[batch.length - 1]!;
    const title = newConversations ? `New conversation · ${last.visitor}` : `${last.visitor}`;
    const body = batch.length === 1 ? last.preview : `${batch.length} new messages · ${last.preview}`;
    return { title, body, conversationId: last.conversationId, count: batch.length, newConversations };
  }
  const title = newConversations === conversations.size ? `${newConversations} new conversations` : `${batch.length} new messages in ${conversations.size} conversations`;
  const names = [...new Set(batch.map((n) => n.visitor))];
  const body = names.slice(0, 3).join(", ") + (names.length > 3 ? ` and ${names.length - 3} more` : "");
  return { title, body, conversationId: null, count: batch.length, newConversations };
}

/**
 * Collects notifications for `windowMs` after the first of a burst and
 * hands the batch over once; at most one flush per window.
 */
export class Coalescer {
  private batch: Incoming[] = [];
  private timer: unknown = null;
  constructor(
    private readonly windowMs: number,
    private readonly flush: (batch: Incoming[]) => void,
    // Not `= setTimeout`: called as this.schedule(), the browser's
    // setTimeout throws "Illegal invocation".
    private readonly schedule: (fn: () => void, ms: number) => unknown = (fn, ms) => setTimeout(fn, ms),
  ) {}

  push(item: Incoming): void {
    this.batch.push(item);
    if (this.timer === null) {
      this.timer = this.schedule(() => {
        this.timer = null;
        const batch = this.batch;
        this.batch = [];
        this.flush(batch);
      }, this.windowMs);
    }
  }
}

/** "(3) Inbox · Livedesk": the unread count in the tab title. */
export function documentTitle(screen: string, unread: number): string {
  const base = `${screen} · Livedesk`;
  if (unread <= 0) return base;
  return `(${unread > 99 ? "99+" : unread}) ${base}`;
}
