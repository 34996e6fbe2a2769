// Shared test data (not a test file itself).
import type { OperatorSpec, Pipeline } from "../api/types";
import { catalogueOf, type Catalogue } from "./graph";

const table = (name: string, label = name) => ({ name, type: "table" as const, label, optional: false });
const model = (name: string, label = name) => ({ name, type: "model" as const, label, optional: false });

export const OPS: OperatorSpec[] = [
  {
    name: "connector.sample",
    label: "Sample dataset",
    description: "",
    category: "connector",
    icon: "database",
    keywords: [],
    version: "1",
    inputs: [],
    outputs: [table("table")],
    params_schema: {
      type: "object",
      properties: { dataset: { type: "string", default: "iris", title: "Dataset" } },
    },
    cacheable: true,
    stateful: false,
    batch_only: false,
    samples: false,
  },
  {
    name: "transform.filter",
    label: "Filter rows",
    description: "",
    category: "transform",
    icon: "filter",
    keywords: [],
    version: "1",
    inputs: [table("table")],
    outputs: [table("table")],
    params_schema: {
      type: "object",
      properties: { column: { type: "string", "x-column-of": "table" }, limit: { type: "integer", default: 10 } },
    },
    cacheable: true,
    stateful: false,
    batch_only: false,
    samples: false,
  },
  {
    name: "model.train",
    label: "Train",
    description: "",
    category: "model",
    icon: "brain",
    keywords: [],
    version: "1",
    inputs: [table("train")],
    outputs: [model("model"), table("metrics")],
    params_schema: { type: "object", properties: {} },
    cacheable: true,
    stateful: true,
    batch_only: false,
    samples: false,
  },
  {
    name: "model.predict",
    label: "Predict",
    description: "",
    category: "model",
    icon: "sparkles",
    keywords: [],
    version: "1",
    inputs: [model("model"), table("table")],
    outputs: [table("table")],
    params_schema: { type: "object", properties: {} },
    cacheable: true,
    stateful: false,
    batch_only: false,
    samples: false,
  },
];

export const CATALOGUE: Catalogue = catalogueOf(OPS);

export function pipeline(graph: Pipeline["graph"] = { nodes: [], edges: [] }): Pipeline {
  return {
    id: "p1",
    name: "Test",
    description: "",
    workspace: "w1",
    graph,
    version: "v1",
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    webhook_enabled: false,
    last_run: null,
  };
}

