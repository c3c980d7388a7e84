import { describe, expect, it } from "vitest";
import { match, parseLocation, safeNext } from "./router";

describe("routes", () => {
  it("reads the path below /console", () => {
    expect(parseLocation("/console/", "").path).toBe("/");
    expect(parseLocation("/console", "").path).toBe("/");
    expect(parseLocation("/console/inbox/unread/", "?x=1").path).toBe("/inbox/unread");
    expect(parseLocation("/console/setup", "?token=abc").query.get("token")).toBe("abc");
    expect(parseLocation("/consoleX/a", "").path).toBe("/consoleX/a");
  });

  it("matches deep links with parameters", () => {
    expect(match("/inbox/:folder/:id", "/inbox/all/0190-ab")).toEqual({ folder: "all", id: "0190-ab" });
    expect(match("/inbox/:folder", "/inbox/all/x")).toBeNull();
    expect(match("/admin/:section", "/admin/")).toBeNull();
    expect(match("/invite/:token", "/invite/a%2Fb")).toEqual({ token: "a/b" });
  });

  it("comes back only to our own pages after signing in", () => {
    expect(safeNext("/inbox/done/1")).toBe("/inbox/done/1");
    expect(safeNext(null)).toBe("/inbox/unread");
    expect(safeNext("https://evil.example")).toBe("/inbox/unread");
    expect(safeNext("//evil.example")).toBe("/inbox/unread");
    expect(safeNext("/\\evil.example")).toBe("/inbox/unread");
    expect(safeNext("/signin?next=/x")).toBe("/inbox/unread");
    expect(safeNext("/invite/tok")).toBe("/inbox/unread");
  });
});
