import { describe, expect, it } from "vitest";
import { ShortcutReader, ShortcutRegistry, isTypingTarget, stepIndex, type KeyLike } from "./shortcuts";

const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({ key: k, altKey: false, ctrlKey: false, metaKey: false, ...mods });

describe("shortcuts", () => {
  it("maps the daily moves", () => {
    const r = new ShortcutReader();
    expect(r.read(key("j"), false, 0)).toBe("next");
    expect(r.read(key("k"), false, 0)).toBe("previous");
    expect(r.read(key("a"), false, 0)).toBe("assign-to-me");
    expect(r.read(key("c"), false, 0)).toBe("focus-composer");
    expect(r.read(key("/"), false, 0)).toBe("focus-composer");
    expect(r.read(key("?"), false, 0)).toBe("help");
    expect(r.read(key("d", { altKey: true }), false, 0)).toBe("done");
    expect(r.read(key("∂", { altKey: true, code: "KeyD" }), false, 0)).toBe("done");
  });

  it("ignores keys typed in a field, but Escape leaves it", () => {
    const r = new ShortcutReader();
    expect(r.read(key("a"), true, 0)).toBeNull();
    expect(r.read(key("j"), true, 0)).toBeNull();
    expect(r.read(key("Escape"), true, 0)).toBe("leave-field");
  });

  it("leaves browser shortcuts alone", () => {
    const r = new ShortcutReader();
    expect(r.read(key("a", { ctrlKey: true }), false, 0)).toBeNull();
    expect(r.read(key("k", { metaKey: true }), false, 0)).toBeNull();
  });

  it("g then a letter goes to a screen, only within 1.2 s", () => {
    const r = new ShortcutReader();
    expect(r.read(key("g"), false, 1000)).toBeNull();
    expect(r.read(key("l"), false, 1500)).toBe("go-live");
    expect(r.read(key("g"), false, 3000)).toBeNull();
    expect(r.read(key("i"), false, 5000)).toBeNull();
    expect(r.read(key("g"), false, 6000)).toBeNull();
    expect(r.read(key("j"), false, 6100)).toBeNull();
    expect(r.read(key("j"), false, 6200)).toBe("next");
  });

  it("knows which elements type text", () => {
    expect(isTypingTarget({ tagName: "TEXTAREA" })).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "search" })).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "checkbox" })).toBe(false);
    expect(isTypingTarget({ tagName: "DIV", isContentEditable: true })).toBe(true);
    expect(isTypingTarget({ tagName: "BUTTON" })).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });

  it("runs the newest handler of an action, and none after it is removed", () => {
    const reg = new ShortcutRegistry();
    const calls: string[] = [];
    const offA = reg.on("next", () => calls.push("a"));
    const offB = reg.on("next", () => calls.push("b"));
    expect(reg.run("next")).toBe(true);
    offB();
    reg.run("next");
    offA();
    expect(reg.run("next")).toBe(false);
    expect(calls).toEqual(["b", "a"]);
  });

  it("steps through the list without running off its ends", () => {
    expect(stepIndex(-1, 5, 1)).toBe(0);
    expect(stepIndex(-1, 5, -1)).toBe(4);
    expect(stepIndex(4, 5, 1)).toBe(4);
    expect(stepIndex(0, 5, -1)).toBe(0);
    expect(stepIndex(2, 5, 1)).toBe(3);
    expect(stepIndex(0, 0, 1)).toBe(-1);
  });
});
