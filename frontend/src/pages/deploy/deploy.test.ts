import { describe, expect, it } from "vitest";
import { curlExample, parseRowsInput, psiLevel, requestColumns, rowProblems, shellQuote } from "./deploy";

describe("psiLevel", () => {
  it("warns above the threshold and watches above half of it", () => {
    expect(psiLevel(0.25, 0.2)).toBe("warn");
    expect(psiLevel(0.2, 0.2)).toBe("watch");
    expect(psiLevel(0.11, 0.2)).toBe("watch");
    expect(psiLevel(0.05, 0.2)).toBe("ok");
    expect(psiLevel(null, 0.2)).toBe("none");
    expect(psiLevel(NaN, 0.2)).toBe("none");
  });
});

describe("curlExample", () => {
  it("quotes the body for a shell and asks for a token", () => {
    const cmd = curlExample("http://x/api/pipelines/1/predict", { name: "O'Brien", n: 1 });
    expect(cmd).toContain("Authorization: Token <your token>");
    expect(cmd).toContain(shellQuote('"O\'Brien"').slice(1, -1));
    expect(cmd).toContain("'http://x/api/pipelines/1/predict'");
    const body = cmd.slice(cmd.indexOf("-d '") + 4, -1).replace(/'\\''/g, "'");
    expect(JSON.parse(body)).toEqual({ rows: [{ name: "O'Brien", n: 1 }] });
  });
});

describe("parseRowsInput", () => {
  it("accepts the request body, a list or one row", () => {
    expect(parseRowsInput('{"rows": [{"a": 1}]}')).toEqual({ rows: [{ a: 1 }] });
    expect(parseRowsInput('[{"a": 1}, {"a": 2}]')).toEqual({ rows: [{ a: 1 }, { a: 2 }] });
    expect(parseRowsInput('{"a": 1}')).toEqual({ rows: [{ a: 1 }] });
  });

  it("explains what is wrong", () => {
    expect(parseRowsInput("{")).toHaveProperty("error");
    expect(parseRowsInput("[]")).toEqual({ error: "Add at least one row." });
    expect(parseRowsInput('{"rows": 3}')).toHaveProperty("error");
    expect(parseRowsInput("3")).toHaveProperty("error");
  });
});

describe("rowProblems", () => {
  it("reads row problems from fields named rows.<row>.<column>", () => {
    expect(
      rowProblems({ "rows.0.plan": ["missing"], "rows.3": ["must be an object"], "rows.1.a.b": ["x", "y"], name: ["z"] }),
    ).toEqual([
      { row: 0, column: "plan", message: "missing" },
      { row: 3, column: null, message: "must be an object" },
      { row: 1, column: "a.b", message: "x" },
      { row: 1, column: "a.b", message: "y" },
    ]);
    expect(rowProblems(undefined)).toEqual([]);
  });
});

describe("requestColumns", () => {
  it("lists the required columns first, each group in the table's order", () => {
    const columns = [
      { name: "id", required: false },
      { name: "plan", required: true },
      { name: "email", required: false },
      { name: "spend", required: true },
    ];
    expect(requestColumns(columns).map((c) => c.name)).toEqual(["plan", "spend", "id", "email"]);
  });
});
