// The inbox's folder counts (site-wide), from the `conversationCounts`
// query, asked again whenever a conversation of the site changes (the
// `conversationsChanged` subscription of the whole site is the trigger),
// at most once a second and never two requests at once.
import { signal } from "@preact/signals";
import { gql } from "../lib/api";
import { subscribe } from "../lib/ws";
import { ConversationCountsDocument, InboxActivityDocument, type ConversationCountsQuery } from "../gql/generated";
import { throttled } from "../lib/throttle";

export type FolderCounts = ConversationCountsQuery["conversationCounts"];

export const folderCounts = signal<FolderCounts | null>(null);

let stop: (() => void) | null = null;

export function startFolderCounts(site: string): void {
  stopFolderCounts();
  const refresh = throttled(async () => {
    try {
      folderCounts.value = (await gql(ConversationCountsDocument, { siteId: site })).conversationCounts;
    } catch {
      /* the next change asks again; the inbox shows its own errors */
    }
  }, 1000);
  stop = subscribe(InboxActivityDocument, { siteId: site }, { next: () => refresh(), error: () => {} });
}

export function stopFolderCounts(): void {
  stop?.();
  stop = null;
  folderCounts.value = null;
}
