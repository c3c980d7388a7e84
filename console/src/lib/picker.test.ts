import { describe, expect, it } from "vitest";
import { hashQuery, insertBlock, pickerKey } from "./picker";

describe("the # text-block picker", () => {
  it("finds the #query the caret is in", () => {
    expect(hashQuery("Hello #ret", 10)).toEqual({ start: 6, query: "ret" });
    expect(hashQuery("#", 1)).toEqual({ start: 0, query: "" });
    expect(hashQuery("Hello #ret and more", 10)).toEqual({ start: 6, query: "ret" });
  });

  it("ignores a # inside a word or after a space", () => {
    expect(hashQuery("order#12", 8)).toBeNull();
    expect(hashQuery("#ret ", 5)).toBeNull();
    expect(hashQuery("no hash", 7)).toBeNull();
  });

  it("replaces #query with the block and puts the caret after it", () => {
    expect(insertBlock("Hi #ret!", 3, 7, "Returns are free.")).toEqual({ text: "Hi Returns are free.!", caret: 20 });
  });

  it("moves with the arrows (wrapping), chooses with Enter or Tab, closes with Escape", () => {
    expect(pickerKey("ArrowDown", 0, 3)).toEqual({ type: "move", index: 1 });
    expect(pickerKey("ArrowDown", 2, 3)).toEqual({ type: "move", index: 0 });
    expect(pickerKey("ArrowUp", 0, 3)).toEqual({ type: "move", index: 2 });
    expect(pickerKey("Enter", 1, 3)).toEqual({ type: "choose", index: 1 });
    expect(pickerKey("Tab", 7, 3)).toEqual({ type: "choose", index: 2 });
    expect(pickerKey("Escape", 0, 0)).toEqual({ type: "close" });
    expect(pickerKey("Enter", 0, 0)).toEqual({ type: "none" });
    expect(pickerKey("x", 0, 3)).toEqual({ type: "none" });
  });
});
