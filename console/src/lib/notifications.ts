// The `notifications` subscription: the server already applies the
// agent's preference (every message / new conversations only / none).
// Bursts are coalesced into one notification; the browser's Notification
// is used when granted, else an in-page toast.
import { signal } from "@preact/signals";
import { subscribe } from "./ws";
import { NotificationsDocument } from "../gql/generated";
import { Coalescer, summarize, type Incoming } from "./notify";
import { ring } from "./sound";
import { toast } from "../ui/toast";
import { navigate, route } from "./router";

export const notificationPermission = signal<NotificationPermission | "unsupported">(
  typeof Notification === "undefined" ? "unsupported" : Notification.permission,
);

export async function requestNotificationPermission(): Promise<void> {
  if (typeof Notification === "undefined") return;
  notificationPermission.value = await Notification.requestPermission();
}

function deliver(batch: Incoming[]): void {
  const summary = summarize(batch);
  if (!summary) return;
  ring(summary.newConversations > 0);
  // The agent is looking at that very conversation: the sound is enough.
  const looking = summary.conversationId !== null && document.visibilityState === "visible" && route.value.path.endsWith(`/${summary.conversationId}`);
  if (looking) return;
  const open = () => navigate(summary.conversationId ? `/inbox/all/${summary.conversationId}` : "/inbox/unread");
  if (typeof Notification !== "undefined" && Notification.permission === "granted" && document.visibilityState !== "visible") {
    const n = new Notification(summary.title, { body: summary.body, tag: "livedesk-inbox" });
    n.onclick = () => {
      window.focus();
      open();
      n.close();
    };
    return;
  }
  toast({ title: summary.title, body: summary.body, tone: "info", action: { label: "Open", run: open } }, 10_000);
}

const coalescer = new Coalescer(1200, deliver);

let stop: (() => void) | null = null;

export function startNotifications(): void {
  if (stop) return;
  stop = subscribe(
    NotificationsDocument,
    {},
    {
      next: (data) => {
        const n = data.notifications;
        coalescer.push({
          conversationId: n.conversation.id,
          kind: n.kind,
          visitor: n.conversation.visitorName ?? n.conversation.visitorEmail ?? "A visitor",
          preview: n.message.body.slice(0, 140),
        });
      },
    },
  );
}

export function stopNotifications(): void {
  stop?.();
  stop = null;
}
