// Counts of the Unread and Unresolved folders (site-wide), kept live by
// their subscriptions. The API has no count field: a folder holding more
// than the snapshot's 100 rows shows "100+".
import { signal, effect } from "@preact/signals";
import { InboxList } from "../lib/inbox-store";

export interface FolderCount {
  count: number;
  capped: boolean;
}

export const folderLists = signal<{ unread: FolderCount | null; unresolved: FolderCount | null }>({ unread: null, unresolved: null });

let lists: InboxList[] = [];
let stops: (() => void)[] = [];

export function startFolderCounts(site: string): void {
  stopFolderCounts();
  const unread = new InboxList(site, { status: "UNREAD", assignedToMe: false, provider: null, search: "", order: "NEWEST" }, false);
  const unresolved = new InboxList(site, { status: "UNRESOLVED", assignedToMe: false, provider: null, search: "", order: "NEWEST" }, false);
  lists = [unread, unresolved];
  for (const l of lists) l.start();
  stops.push(
    effect(() => {
      folderLists.value = {
        unread: unread.loaded.value ? { count: unread.rows.value.length, capped: unread.capped.value } : null,
        unresolved: unresolved.loaded.value ? { count: unresolved.rows.value.length, capped: unresolved.capped.value } : null,
      };
    }),
  );
}

export function stopFolderCounts(): void {
  for (const l of lists) l.dispose();
  for (const s of stops) s();
  lists = [];
  stops = [];
  folderLists.value = { unread: null, unresolved: null };
}
