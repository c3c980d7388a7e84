// The `#` text-block picker of the composer: what the query is, and which
// suggestion the keyboard has selected.

/** The `#query` the caret is in, with where it starts; null when none. */
export function hashQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)#([^\s#]{0,40})$/.exec(before);
  if (!match) return null;
  const start = before.length - match[2]!.length - 1;
  return { start, query: match[2]! };
}

/** Replaces `#query` with the block's body. */
export function insertBlock(text: string, start: number, caret: number, body: string): { text: string; caret: number } {
  const next = text.slice(0, start) + body + text.slice(caret);
  return { text: next, caret: start + body.length };
}

export type PickerKey = "ArrowDown" | "ArrowUp" | "Enter" | "Tab" | "Escape";

export type PickerAction = { type: "move"; index: number } | { type: "choose"; index: number } | { type: "close" } | { type: "none" };

/** What a key does while the picker shows `count` suggestions. */
export function pickerKey(key: string, index: number, count: number): PickerAction {
  if (key === "Escape") return { type: "close" };
  if (count === 0) return { type: "none" };
  switch (key) {
    case "ArrowDown":
      return { type: "move", index: (index + 1) % count };
    case "ArrowUp":
      return { type: "move", index: (index - 1 + count) % count };
    case "Enter":
    case "Tab":
      return { type: "choose", index: Math.min(Math.max(index, 0), count - 1) };
    default:
      return { type: "none" };
  }
}
