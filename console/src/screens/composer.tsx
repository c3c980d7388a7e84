// The composer: reply or internal note, `#` text blocks with keyboard
// selection, and links as attachments (AttachmentInput is a reference).
// While the agent types a reply (never a note) the visitor sees
// "{name} is typing…" (`setTyping`, see lib/typing).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { signal } from "@preact/signals";
import { gql, describeError } from "../lib/api";
import { siteId } from "../lib/session";
import {
  SendMessageDocument,
  AddNoteDocument,
  SetTypingDocument,
  TextBlockSearchDocument,
  type AttachmentKind,
  type InboxRowFragment,
  type MessageFieldsFragment,
  type TextBlockSearchQuery,
} from "../gql/generated";
import { hashQuery, insertBlock, pickerKey } from "../lib/picker";
import { TypingSender } from "../lib/typing";
import { IconLink } from "../ui/icons";

/** Bumped by the `c` and `/` shortcuts. */
export const composerFocus = signal(0);

type Block = TextBlockSearchQuery["textBlocks"][number];

/** Who speaks to the visitor now: the AI, me, or another agent. */
export type TakeOverMode = "ai" | "mine" | "other";

interface Props {
  conversationId: string;
  mode: TakeOverMode;
  /** The live agent's name while someone has taken over. */
  holder: string | null;
  /** Takes the conversation over (a reply while the AI answers does). */
  takeOver: () => Promise<void>;
  onSent: (row: InboxRowFragment) => void;
  onMessage: (m: MessageFieldsFragment) => void;
}

const drafts = new Map<string, string>();

export function Composer(props: Props) {
  const [text, setText] = useState(drafts.get(props.conversationId) ?? "");
  const [note, setNote] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [blocks, setBlocks] = useState<Block[]>([]);
  const [picker, setPicker] = useState<{ start: number; query: string } | null>(null);
  const [active, setActive] = useState(0);
  const [attachments, setAttachments] = useState<{ kind: AttachmentKind; reference: string }[]>([]);
  const [linkOpen, setLinkOpen] = useState(false);
  const [linkUrl, setLinkUrl] = useState("");
  const [linkKind, setLinkKind] = useState<AttachmentKind>("FILE");
  const area = useRef<HTMLTextAreaElement>(null);
  const searchSeq = useRef(0);
  const typing = useMemo(
    () => new TypingSender((on) => void gql(SetTypingDocument, { id: props.conversationId, typing: on }).catch(() => {})),
    [props.conversationId],
  );
  // Another conversation, or leaving the screen: stop.
  useEffect(() => () => typing.stop(), [typing]);

  useEffect(() => {
    setText(drafts.get(props.conversationId) ?? "");
    setAttachments([]);
    setError(null);
    setPicker(null);
  }, [props.conversationId]);

  const focusTick = composerFocus.value;
  useEffect(() => {
    if (focusTick) area.current?.focus();
  }, [focusTick]);

  // The `#` search: the site's text blocks whose shortcut or title matches.
  useEffect(() => {
    if (!picker) {
      setBlocks([]);
      return;
    }
    const seq = ++searchSeq.current;
    const timer = setTimeout(() => {
      gql(TextBlockSearchDocument, { siteId: siteId.value, search: picker.query || null })
        .then((d) => {
          if (seq === searchSeq.current) {
            setBlocks(d.textBlocks.slice(0, 8));
            setActive(0);
          }
        })
        .catch(() => setBlocks([]));
    }, 120);
    return () => clearTimeout(timer);
  }, [picker?.query, picker !== null]);

  function update(value: string, caret: number) {
    setText(value);
    drafts.set(props.conversationId, value);
    setPicker(hashQuery(value, caret));
    typing.input(value, note);
  }

  function choose(block: Block) {
    if (!picker || !area.current) return;
    const caret = area.current.selectionStart;
    const next = insertBlock(text, picker.start, caret, block.body);
    setText(next.text);
    drafts.set(props.conversationId, next.text);
    setPicker(null);
    requestAnimationFrame(() => {
      area.current?.focus();
      area.current?.setSelectionRange(next.caret, next.caret);
    });
  }

  async function send() {
    const body = text.trim();
    if (!body || busy) return;
    setBusy(true);
    setError(null);
    typing.stop();
    try {
      if (note) {
        const row = (await gql(AddNoteDocument, { id: props.conversationId, body })).addNote;
        props.onSent(row);
      } else {
        // Never talk over the AI: a reply takes the conversation over first.
        if (props.mode === "ai") await props.takeOver();
        const result = (
          await gql(SendMessageDocument, { id: props.conversationId, body, attachments, clientMessageId: crypto.randomUUID() })
        ).sendMessage;
        if (result.message) props.onMessage(result.message);
        props.onSent(result.conversation);
        setAttachments([]);
      }
      setText("");
      drafts.delete(props.conversationId);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
      area.current?.focus();
    }
  }

  function onKeyDown(e: KeyboardEvent) {
    if (picker && blocks.length + 1 > 0) {
      const action = pickerKey(e.key, active, blocks.length);
      if (action.type === "move") {
        e.preventDefault();
        setActive(action.index);
        return;
      }
      if (action.type === "choose") {
        e.preventDefault();
        const block = blocks[action.index];
        if (block) choose(block);
        return;
      }
      if (action.type === "close") {
        e.preventDefault();
        setPicker(null);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.altKey) {
      e.preventDefault();
      void send();
    }
  }

  function addLink(e: Event) {
    e.preventDefault();
    const url = linkUrl.trim();
    try {
      const u = new URL(url);
      if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error();
    } catch {
      setError("Attach a full http(s) link, such as https://example.com/manual.pdf.");
      return;
    }
    if (url.length > 2048) {
      setError("A link may have at most 2,048 characters.");
      return;
    }
    setAttachments([...attachments, { kind: linkKind, reference: url }]);
    setLinkUrl("");
    setLinkOpen(false);
    setError(null);
  }

  const listId = `blocks-${props.conversationId}`;
  return (
    <div class={`composer${note ? " composer-note" : ""}`}>
      <div class="composer-tabs" role="group" aria-label="Reply or internal note">
        <button type="button" aria-pressed={!note} class={!note ? "on" : ""} onClick={() => setNote(false)} data-testid="reply-toggle">
          Reply
        </button>
        <button type="button" aria-pressed={note} class={note ? "on" : ""} onClick={() => {
            typing.stop();
            setNote(true);
          }} data-testid="note-toggle">
          Note
        </button>
        <span class="muted small composer-hint">
          {note
            ? "Internal note: only your team sees it, never the visitor."
            : props.mode === "ai"
              ? "Sending takes over from the AI: it stops answering until you leave."
              : props.mode === "other"
                ? `${props.holder ?? "Another agent"} is the live agent; you would reply under your own name.`
                : "Enter sends · Shift+Enter new line · # text blocks"}
        </span>
      </div>
      {picker && blocks.length > 0 ? (
        <ul class="picker" id={listId} role="listbox" aria-label="Text blocks">
          {blocks.map((b, i) => (
            <li
              key={b.id}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(b);
              }}
            >
              <strong>#{b.shortcut}</strong> <span>{b.title}</span>
              <span class="muted picker-body">{b.body}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <label class="visually-hidden" for={`composer-${props.conversationId}`}>
        {note ? "Internal note" : "Reply to the visitor"}
      </label>
      <textarea
        id={`composer-${props.conversationId}`}
        ref={area}
        class="composer-input"
        data-testid="composer"
        rows={3}
        placeholder={note ? "Write a note for your team…" : "Write a reply… (# for text blocks)"}
        value={text}
        {...({ role: "combobox" } as Record<string, string>)}
        aria-expanded={picker !== null && blocks.length > 0}
        aria-controls={picker !== null && blocks.length > 0 ? listId : undefined}
        aria-autocomplete="list"
        aria-activedescendant={picker && blocks.length ? `${listId}-${active}` : undefined}
        onInput={(e) => update(e.currentTarget.value, e.currentTarget.selectionStart)}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => setPicker(null), 150)}
      />
      {attachments.length ? (
        <ul class="pending-attachments" aria-label="Attachments">
          {attachments.map((a, i) => (
            <li key={i} class="chip">
              {a.kind.toLowerCase()}: {a.reference}
              <button type="button" class="icon-btn" aria-label={`Remove ${a.reference}`} onClick={() => setAttachments(attachments.filter((_, j) => j !== i))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {linkOpen && !note ? (
        <form class="link-form" onSubmit={addLink}>
          <label class="visually-hidden" for="link-kind">
            Attachment kind
          </label>
          <select id="link-kind" class="select" value={linkKind} onChange={(e) => setLinkKind(e.currentTarget.value as AttachmentKind)}>
            <option value="FILE">File</option>
            <option value="IMAGE">Image</option>
            <option value="VIDEO">Video</option>
            <option value="AUDIO">Audio</option>
            <option value="ARTICLE">Article</option>
          </select>
          <label class="visually-hidden" for="link-url">
            Link
          </label>
          <input id="link-url" class="input" type="url" placeholder="https://…" value={linkUrl} onInput={(e) => setLinkUrl(e.currentTarget.value)} />
          <button class="btn btn-small" type="submit">
            Add
          </button>
        </form>
      ) : null}
      {error ? (
        <p class="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="composer-bar">
        {!note ? (
          <button type="button" class="btn btn-ghost btn-small" onClick={() => setLinkOpen(!linkOpen)} aria-expanded={linkOpen}>
            <IconLink /> Attach a link
          </button>
        ) : null}
        <span class="spacer" />
        <button type="button" class={`btn ${note ? "btn-note" : "btn-primary"}`} onClick={send} disabled={busy || !text.trim()} data-testid="send">
          {note ? "Add note" : props.mode === "ai" ? "Take over and send" : "Send"}
        </button>
      </div>
    </div>
  );
}
