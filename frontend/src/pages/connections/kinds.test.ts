import { describe, expect, it } from "vitest";
import { connectionTarget, fieldsToSend, kindLabel } from "./kinds";

describe("connection kinds", () => {
  it("labels known kinds and humanizes others", () => {
    expect(kindLabel("postgresql")).toBe("PostgreSQL");
    expect(kindLabel("my_crm")).toBe("My crm");
  });

  it("shows where a connection points", () => {
    expect(connectionTarget({ base_url: "https://api.hubapi.com/x" })).toBe("api.hubapi.com");
    expect(connectionTarget({ host: "db", port: 5432, database: "dw" })).toBe("db:5432 / dw");
    expect(connectionTarget({ path: "sales.db" })).toBe("sales.db");
  });

  it("leaves out a stored secret unless it is replaced, and blank secrets", () => {
    const values = { host: "db", password: "", token: "new" };
    expect(fieldsToSend(values, ["password", "token"], new Set(), ["token"])).toEqual({ host: "db" });
    expect(fieldsToSend(values, ["password", "token"], new Set(["token"]), ["token"])).toEqual({
      host: "db",
      token: "new",
    });
  });
});
