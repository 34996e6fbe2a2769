import { describe, expect, it } from "vitest";
import { connectionTarget, fieldsToSend, kindLabel } from "./kinds";

describe("connection kinds", () => {
  it("labels known kinds and humanizes others", () => {
    expect(kindLabel("postgresql")).toBe("PostgreSQL");
    expect(kindLabel("google_sheets")).toBe("Google Sheets");
    expect(kindLabel("files")).toBe("Files (S3, GCS, Azure, web, folder)");
    expect(kindLabel("sqlalchemy")).toBe("SQL database (SQLAlchemy URL)");
    expect(kindLabel("my_crm")).toBe("My crm");
  });

  it("shows where a connection points", () => {
    expect(connectionTarget({ base_url: "https://api.hubapi.com/x" })).toBe("api.hubapi.com");
    expect(connectionTarget({ host: "db", port: 5432, database: "dw" })).toBe("db:5432 / dw");
    expect(connectionTarget({ path: "sales.db" })).toBe("sales.db");
    expect(connectionTarget({ shop_url: "https://acme.myshopify.com", api_version: "2024-10" })).toBe("acme.myshopify.com");
    expect(connectionTarget({ url: "s3://exports/2024/", key: "AKIA" })).toBe("s3://exports/2024/");
    expect(connectionTarget({ url: "gs://user:pw@bucket/in?x=1" })).toBe("gs://bucket/in");
    expect(connectionTarget({ url: "https://files.example.com/exports/" })).toBe("files.example.com");
    expect(connectionTarget({ url: "exports/daily" })).toBe("exports/daily");
  });

  it("never shows a secret field as the target (a SQLAlchemy URL carries a password)", () => {
    expect(connectionTarget({ url: "••••••", dry_run_only: false }, ["url"])).toBe("");
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
