// The frame of every signed-in screen: the nav rail, the live-connection
// indicator, sound, toasts, the unread count in the tab title and the
// keyboard-shortcut help.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { computed, signal } from "@preact/signals";
import { route, navigate } from "../lib/router";
import { session, profile, isStaff, siteId } from "../lib/session";
import { linkState, generation, retryNow } from "../lib/ws";
import { soundEnabled, enableSound } from "../lib/sound";
import { startNotifications, stopNotifications } from "../lib/notifications";
import { documentTitle } from "../lib/notify";
import { IconAdmin, IconInbox, IconKeyboard, IconLive, IconSound, IconUser } from "./icons";
import { Toasts } from "./toast";
import { folderCounts, startFolderCounts } from "./folders";
import { initials } from "../lib/format";
import { SHORTCUTS, ShortcutReader, isTypingTarget, shortcuts } from "../lib/shortcuts";

export const helpOpen = signal(false);
const unreadCount = computed(() => folderCounts.value?.unread ?? 0);
let started = "";

export function Link(props: { href: string; class?: string; children: ComponentChildren; "aria-current"?: "page" | undefined; title?: string; "aria-label"?: string }) {
  return (
    <a
      href={`/console${props.href}`}
      class={props.class}
      aria-current={props["aria-current"]}
      title={props.title}
      aria-label={props["aria-label"]}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

function NavItem(props: { href: string; prefix: string; label: string; icon: ComponentChildren; badge?: number }) {
  const active = route.value.path.startsWith(props.prefix);
  return (
    <li>
      <Link href={props.href} class={`rail-item${active ? " active" : ""}`} aria-current={active ? "page" : undefined}>
        {props.icon}
        <span class="rail-label">{props.label}</span>
        {props.badge ? <span class="rail-badge" data-testid="unread-badge">
            {props.badge > 99 ? "99+" : props.badge}
            <span class="visually-hidden"> unread</span>
          </span> : null}
      </Link>
    </li>
  );
}

export function Shell(props: { title: string; children: ComponentChildren }) {
  const site = siteId.value;
  const gen = generation.value;
  useEffect(() => {
    if (!site) return;
    const key = `${site}/${gen}`;
    if (started === key) return;
    started = key;
    stopNotifications();
    startFolderCounts(site);
    startNotifications();
  }, [site, gen]);

  const unread = unreadCount.value;
  useEffect(() => {
    document.title = documentTitle(props.title, unread);
  }, [props.title, unread]);

  const s = session.value!;
  const me = profile.value;
  const presence = me?.presence ?? "OFFLINE";
  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <nav class="rail" aria-label="Main">
        <div class="rail-logo" aria-hidden="true">
          L
        </div>
        <ul>
          <NavItem href="/live" prefix="/live" label="Live View" icon={<IconLive />} />
          <NavItem href="/inbox/unread" prefix="/inbox" label="Inbox" icon={<IconInbox />} badge={unread} />
          <NavItem href="/me" prefix="/me" label="Me" icon={<IconUser />} />
          {isStaff.value ? <NavItem href="/admin/teams" prefix="/admin" label="Admin" icon={<IconAdmin />} /> : null}
        </ul>
        <div class="rail-bottom">
          <button type="button" class="rail-item" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" onClick={() => (helpOpen.value = true)}>
            <IconKeyboard />
          </button>
          <Link href="/me" class="rail-avatar" title={`${s.agent.displayName} · ${presence.toLowerCase()}`} aria-label={`${s.agent.displayName}, ${presence.toLowerCase()}`}>
            <span aria-hidden="true">{initials(me?.displayName ?? s.agent.displayName)}</span>
            <span class={`presence-dot presence-${presence.toLowerCase()}`} aria-hidden="true" />
          </Link>
        </div>
      </nav>
      <div class="app-main">
        <div class="topline">
          <div role="status" aria-live="polite" class="link-status">
            {linkState.value !== "connected" ? (
              <div class="reconnecting" data-testid="reconnecting" data-state={linkState.value}>
                <span class="spinner" aria-hidden="true" />
                {linkState.value === "connecting" ? "Connecting…" : "Reconnecting… updates resume by themselves"}
                {linkState.value === "reconnecting" ? (
                  <button type="button" class="link-retry" onClick={retryNow}>
                    Retry now
                  </button>
                ) : null}
              </div>
            ) : null}
          </div>
          {!soundEnabled.value ? (
            <button type="button" class="sound-hint" onClick={enableSound}>
              <IconSound /> Click to enable sound
            </button>
          ) : null}
        </div>
        {props.children}
      </div>
      <Toasts />
      <HelpDialog />
    </div>
  );
}

function HelpDialog() {
  const ref = useRef<HTMLDialogElement>(null);
  const open = helpOpen.value;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="help-title" onClose={() => (helpOpen.value = false)}>
      <h2 id="help-title">Keyboard shortcuts</h2>
      <table class="shortcuts">
        <tbody>
          {SHORTCUTS.map(([k, v]) => (
            <tr key={k}>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button class="btn" type="submit">
          Close
        </button>
      </form>
    </dialog>
  );
}

/** Whether a key event comes from typing in a field. */
export function isTyping(e: KeyboardEvent): boolean {
  return isTypingTarget(e.target as HTMLElement | null);
}

const reader = new ShortcutReader();
if (typeof window !== "undefined") {
  window.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    const action = reader.read(e, isTyping(e), Date.now());
    if (!action) return;
    switch (action) {
      case "help":
        helpOpen.value = true;
        break;
      case "go-live":
        navigate("/live");
        break;
      case "go-inbox":
        navigate("/inbox/unread");
        break;
      case "go-me":
        navigate("/me");
        break;
      case "go-admin":
        if (isStaff.value) navigate("/admin/teams");
        break;
      case "leave-field":
        (e.target as HTMLElement | null)?.blur?.();
        break;
      default:
        if (!shortcuts.run(action)) return;
    }
    e.preventDefault();
  });
}
