import { describe, expect, it } from "vitest";
import { fileName } from "./download";

describe("download names", () => {
  it("takes the server's name, never a path", () => {
    expect(fileName('attachment; filename="transcript-1.csv"', "x.csv")).toBe("transcript-1.csv");
    expect(fileName("attachment; filename*=UTF-8''sla%20report.csv", "x.csv")).toBe("sla report.csv");
    expect(fileName('attachment; filename="../../etc/passwd"', "x.csv")).toBe(".._.._etc_passwd");
    expect(fileName(null, "x.csv")).toBe("x.csv");
  });
});
