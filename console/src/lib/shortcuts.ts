// Keyboard shortcuts for the daily moves. The reader turns key events into
// actions (pure, tested); screens register what an action does while they
// are shown; the shell listens on the window and dispatches.

export type ShortcutAction =
  | "next"
  | "previous"
  | "assign-to-me"
  | "done"
  | "focus-composer"
  | "help"
  | "go-live"
  | "go-inbox"
  | "go-me"
  | "go-admin"
  | "leave-field";

export interface KeyLike {
  key: string;
  code?: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey?: boolean;
}

/** The help dialog's table: keys, then what they do. */
export const SHORTCUTS: readonly [string, string][] = [
  ["j / k", "Next / previous conversation"],
  ["a", "Assign to me"],
  ["Alt + d", "Mark as Done"],
  ["c or /", "Focus the composer"],
  ["Esc", "Leave the composer (then j / k work again)"],
  ["Enter / Shift + Enter", "Send / new line in the composer"],
  ["#", "Search text blocks in the composer (↑ ↓ Enter)"],
  ["g then l / i / m / s", "Go to Live View / Inbox / Me / Admin"],
  ["?", "This help"],
];

const G_TIMEOUT_MS = 1200;

/** Reads key presses into actions; remembers a pending `g`. */
export class ShortcutReader {
  private gAt: number | null = null;

  /**
   * The action for `e`, or null. `typing` is whether the focus is in a
   * field: there only Escape counts, so typing "a" never assigns.
   */
  read(e: KeyLike, typing: boolean, now: number): ShortcutAction | null {
    if (typing) {
      this.gAt = null;
      return e.key === "Escape" && !e.altKey && !e.ctrlKey && !e.metaKey ? "leave-field" : null;
    }
    if (e.ctrlKey || e.metaKey) return null;
    if (e.altKey) {
      // Alt+D: on macOS the key is "∂", the code stays KeyD.
      return e.code === "KeyD" || e.key === "d" || e.key === "D" ? "done" : null;
    }
    const pending = this.gAt !== null && now - this.gAt <= G_TIMEOUT_MS;
    this.gAt = null;
    if (pending) {
      switch (e.key) {
        case "l":
          return "go-live";
        case "i":
          return "go-inbox";
        case "m":
          return "go-me";
        case "s":
          return "go-admin";
        default:
          return null;
      }
    }
    switch (e.key) {
      case "g":
        this.gAt = now;
        return null;
      case "j":
        return "next";
      case "k":
        return "previous";
      case "a":
        return "assign-to-me";
      case "c":
      case "/":
        return "focus-composer";
      case "?":
        return "help";
      default:
        return null;
    }
  }
}

/** Whether an element is a place where keys type text. */
export function isTypingTarget(t: { tagName?: string; isContentEditable?: boolean; type?: string } | null): boolean {
  if (!t || !t.tagName) return false;
  if (t.isContentEditable) return true;
  const tag = t.tagName.toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (t.type ?? "text").toLowerCase();
  return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
}

type Handler = () => void;

/** What each action does now: the last screen to register one wins. */
export class ShortcutRegistry {
  private handlers = new Map<ShortcutAction, Handler[]>();

  on(action: ShortcutAction, handler: Handler): () => void {
    const list = this.handlers.get(action) ?? [];
    list.push(handler);
    this.handlers.set(action, list);
    return () => {
      const current = this.handlers.get(action) ?? [];
      this.handlers.set(
        action,
        current.filter((h) => h !== handler),
      );
    };
  }

  /** Runs the newest handler; false when none is registered. */
  run(action: ShortcutAction): boolean {
    const list = this.handlers.get(action);
    const handler = list?.[list.length - 1];
    if (!handler) return false;
    handler();
    return true;
  }
}

export const shortcuts = new ShortcutRegistry();

/** The row to open on j / k: the next or previous after `current`. */
export function stepIndex(current: number, count: number, direction: 1 | -1): number {
  if (count === 0) return -1;
  if (current < 0) return direction === 1 ? 0 : count - 1;
  return Math.max(0, Math.min(count - 1, current + direction));
}
