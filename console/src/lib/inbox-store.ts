// One inbox list: the `conversationsChanged` subscription (snapshot of the
// newest 100, then changes) merged with pages of the `conversations`
// query as the user scrolls.
import { signal, type Signal } from "@preact/signals";
import { gql } from "./api";
import { subscribe } from "./ws";
import {
  ConversationsChangedDocument,
  ConversationsDocument,
  type ConversationOrder,
  type InboxRowFragment,
  type Provider,
  type StatusFilter,
} from "../gql/generated";
import { addPage, applyListPush, compareNewest, compareSla, emptyList, frameBatcher, sortedRows, type ListState } from "./merge";

export const SNAPSHOT_LIMIT = 100;
const PAGE = 100;

export interface InboxFilter {
  status: StatusFilter;
  assignedToMe: boolean;
  provider: Provider | null;
  search: string;
  order: ConversationOrder;
}

export function filterKey(f: InboxFilter): string {
  return JSON.stringify([f.status, f.assignedToMe, f.provider, f.search.trim(), f.order]);
}

export class InboxList {
  readonly rows: Signal<readonly InboxRowFragment[]> = signal([]);
  readonly loaded = signal(false);
  readonly error = signal<string | null>(null);
  /** The snapshot filled its limit: more rows exist than it holds. */
  readonly capped = signal(false);
  readonly hasMore = signal(false);
  private state: ListState<InboxRowFragment> = emptyList();
  private cursor: string | null = null;
  private loading = false;
  private stop: (() => void) | null = null;
  /** Pushes in one frame become one sort and one render. */
  private readonly publishSoon = frameBatcher(() => this.publish());

  constructor(
    private readonly siteId: string,
    readonly filter: InboxFilter,
    private readonly paged: boolean,
  ) {}

  start(): void {
    const f = this.filter;
    this.stop = subscribe(
      ConversationsChangedDocument,
      {
        siteId: this.siteId,
        filter: { status: f.status, assignedToMe: f.assignedToMe || null, provider: f.provider, search: f.search.trim() || null },
      },
      {
        next: (data) => {
          const push = data.conversationsChanged;
          if (this.error.value) this.error.value = null;
          if (push.snapshot) this.capped.value = push.upserted.length >= SNAPSHOT_LIMIT;
          this.state = applyListPush(this.state, push, compareNewest, SNAPSHOT_LIMIT);
          if (push.snapshot && !this.loaded.value) {
            // The first rows show at once; later pushes batch per frame.
            this.publish();
            this.loaded.value = true;
            this.hasMore.value = this.paged && this.capped.value;
          } else this.publishSoon();
        },
        error: (e) => {
          this.error.value = e.message;
        },
      },
    );
  }

  dispose(): void {
    this.stop?.();
    this.stop = null;
  }

  /** Loads the next page (query) when the user scrolls near the end. */
  async more(): Promise<void> {
    if (!this.paged || this.loading || !this.hasMore.value) return;
    this.loading = true;
    try {
      const f = this.filter;
      const data = await gql(ConversationsDocument, {
        siteId: this.siteId,
        status: f.status,
        assignedToMe: f.assignedToMe || null,
        provider: f.provider,
        search: f.search.trim() || null,
        orderBy: f.order,
        first: PAGE,
        after: this.cursor,
      });
      const page = data.conversations;
      this.cursor = page.pageInfo.endCursor ?? this.cursor;
      this.hasMore.value = page.pageInfo.hasNextPage;
      this.state = addPage(this.state, page.nodes, (incoming, current) => Date.parse(incoming.updatedAt) > Date.parse(current.updatedAt));
      this.publish();
    } catch (e) {
      this.error.value = e instanceof Error ? e.message : String(e);
    } finally {
      this.loading = false;
    }
  }

  /** A row changed by our own mutation: show it at once. */
  upsert(row: InboxRowFragment): void {
    if (!this.state.rows.has(row.id)) return;
    this.state = applyListPush(this.state, { snapshot: false, upserted: [row], removed: [] }, compareNewest, SNAPSHOT_LIMIT);
    this.publish();
  }

  private publish(): void {
    this.rows.value = sortedRows(this.state, this.filter.order === "SLA" ? compareSla : compareNewest);
  }
}
