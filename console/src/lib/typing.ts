// Typing presence (docs/api.md, "Typing"): what the composer sends and
// what the conversation screen shows. Ephemeral: nothing is stored, and
// a shown state lapses by itself, so a lost stop never leaves it stuck.

/** Repeat "still typing" at most this often while keys are pressed. */
export const TYPING_REPEAT_MS = 2000;
/** Say "stopped" after this long without a key. */
export const TYPING_IDLE_MS = 4000;
/** Show someone as typing for at most this long without a repeat. */
export const TYPING_SHOWN_MS = 6000;

/**
 * The composer's typing signal: `send(true)` at most every 2 s while the
 * agent types a reply, `send(false)` after 4 s idle, on send, on an empty
 * box and on switching to Note. Nothing at all is sent while in Note
 * mode, so the visitor never learns a note is being written.
 */
export class TypingSender {
  private sentAt = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: (typing: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The composer's text changed; `note` is whether it is in Note mode. */
  input(text: string, note: boolean): void {
    if (note || !text.trim()) {
      this.stop();
      return;
    }
    const now = this.now();
    if (!this.sentAt || now - this.sentAt >= TYPING_REPEAT_MS) {
      this.sentAt = now;
      this.send(true);
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), TYPING_IDLE_MS);
  }

  /** Stops (sends `false` only if `true` went out). */
  stop(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
    if (!this.sentAt) return;
    this.sentAt = 0;
    this.send(false);
  }
}

/** A push of the `typing` subscription. */
export interface TypingPushLike {
  who: "VISITOR" | "AGENT";
  agentId?: string | null;
  agentName?: string | null;
  typing: boolean;
}

/**
 * Who is typing in the open conversation, for the line under the
 * transcript: "Visitor is typing…", "Ben is typing…". The caller's own
 * pushes are ignored; each entry lapses 6 s after its last push.
 */
export class TypingIndicator {
  private readonly shown = new Map<string, { label: string; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly me: string,
    private readonly onChange: (labels: string[]) => void,
  ) {}

  push(p: TypingPushLike): void {
    if (p.who === "AGENT" && p.agentId === this.me) return;
    const key = p.who === "VISITOR" ? "visitor" : `agent:${p.agentId ?? ""}`;
    if (!p.typing) {
      this.drop(key);
      return;
    }
    const label = p.who === "VISITOR" ? "Visitor is typing…" : `${p.agentName ?? "An agent"} is typing…`;
    clearTimeout(this.shown.get(key)?.timer);
    this.shown.set(key, { label, timer: setTimeout(() => this.drop(key), TYPING_SHOWN_MS) });
    this.changed();
  }

  /** `key` stopped ("visitor" once their message arrived). */
  drop(key: string): void {
    const entry = this.shown.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.shown.delete(key);
    this.changed();
  }

  clear(): void {
    this.shown.forEach((e) => clearTimeout(e.timer));
    this.shown.clear();
  }

  private changed(): void {
    this.onChange([...this.shown.values()].map((e) => e.label));
  }
}
