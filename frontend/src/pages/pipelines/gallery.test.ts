import { describe, expect, it } from "vitest";
import type { Connection, Template } from "../../api/types";
import { THUMB_NODE, chooseConnections, describeTrigger, thumbnailOf, uniqueName } from "./gallery";

const node = (id: string, operator: string, x: number, y: number) => ({
  id,
  operator,
  label: "",
  position: { x, y },
});

describe("thumbnailOf", () => {
  it("draws each node at its position and frames them all", () => {
    const t = thumbnailOf({
      nodes: [node("a", "connector.sample_dataset", 0, 100), node("b", "model.train_classifier", 260, 0)],
      edges: [{ source: "a", target: "b" }],
    });
    expect(t.nodes.map((n) => [n.id, n.x, n.y, n.category])).toEqual([
      ["a", 0, 100, "connector"],
      ["b", 260, 0, "model"],
    ]);
    // 30 of margin around the boxes: x from -30 to 260 + 180 + 30, y from -30 to 100 + 60 + 30.
    expect(t.viewBox).toBe(`-30 -30 ${260 + THUMB_NODE.width + 60} ${100 + THUMB_NODE.height + 60}`);
    // From a's right side, mid-height, to b's left side, mid-height.
    expect(t.edges).toEqual([`M180 130 C220 130 220 30 260 30`]);
  });

  it("leaves out edges to nodes it does not have and survives missing positions", () => {
    const t = thumbnailOf({
      nodes: [{ id: "a", operator: "plugin.thing", position: null }],
      edges: [{ source: "a", target: "gone" }],
    });
    expect(t.nodes[0]).toMatchObject({ x: 0, y: 0, category: "other", title: "plugin.thing" });
    expect(t.edges).toEqual([]);
  });

  it("gives an empty graph an empty picture", () => {
    expect(thumbnailOf({ nodes: [], edges: [] })).toEqual({ viewBox: "0 0 200 100", nodes: [], edges: [] });
  });
});

describe("uniqueName", () => {
  it("numbers a name the workspace already has, as the server does", () => {
    expect(uniqueName("Churn", ["Other"])).toBe("Churn");
    expect(uniqueName("Churn", ["Churn", "Churn (2)"])).toBe("Churn (3)");
    expect(uniqueName("x".repeat(200), ["x".repeat(200)])).toHaveLength(200);
  });
});

const conn = (id: string, name: string, kind: string) => ({ id, name, kind }) as Connection;
const need = (kind: string, kinds: string[]) => ({ kind, label: kind, kinds });

describe("chooseConnections", () => {
  const connections = [conn("c1", "Warehouse", "sqlite"), conn("c2", "CRM", "hubspot"), conn("c3", "Analytics", "postgresql")];

  it("uses the picked connection, else the first by name that meets the need", () => {
    const template = { needs: [need("sql", ["postgresql", "mysql", "sqlite", "sqlalchemy"]), need("hubspot", ["hubspot"])] };
    expect(chooseConnections(template, connections, {})).toEqual({ chosen: { sql: "c3", hubspot: "c2" }, missing: [] });
    expect(chooseConnections(template, connections, { sql: "c1" }).chosen.sql).toBe("c1");
    // A pick of the wrong kind does not count.
    expect(chooseConnections(template, connections, { sql: "c2" }).chosen.sql).toBe("c3");
  });

  it("names the needs nothing meets", () => {
    const template = { needs: [need("webhook", ["webhook"])] };
    expect(chooseConnections(template, connections, {})).toEqual({ chosen: {}, missing: [template.needs[0]] });
  });
});

describe("describeTrigger", () => {
  it("says how a template's pipeline starts", () => {
    expect(describeTrigger(null)).toBeNull();
    expect(describeTrigger({ kind: "schedule", cron: "0 6 * * *" } as Template["trigger"])).toBe(
      "Every day at 06:00 (UTC), schedule created paused",
    );
    expect(describeTrigger({ kind: "webhook" } as Template["trigger"])).toMatch(/webhook URL/);
  });
});
