import { describe, expect, it } from "vitest";
import type { JsonSchema } from "../../api/types";
import { choicesBy, defaultParams, deriveFields, type FormField } from "../schemaForm";
import { addEntries, matchChoices, refusedMessage, typedEntries } from "./parts/combobox";
import { sampleAsPreview } from "./sample";
import { ApiError } from "../../api/client";
import { optionParams, optionValues, refusalMessage } from "./sourceOptions";

// connector.hubspot's params schema as the server describes it (abridged lists).
const HUBSPOT: JsonSchema = {
  additionalProperties: false,
  properties: {
    incremental: { default: true, title: "Incremental", type: "boolean" },
    connection: { minLength: 1, title: "Connection", type: "string", "x-connection": "hubspot" },
    resource: {
      default: "contacts",
      enum: ["contacts", "companies", "deals"],
      title: "Resource",
      type: "string",
      "x-labels": { companies: "Companies", contacts: "Contacts", deals: "Deals" },
    },
    properties: {
      type: "array",
      items: { type: "string" },
      maxItems: 200,
      "x-options-by": {
        resource: {
          companies: ["name", "domain", "industry"],
          contacts: ["email", "firstname", "lastname", "lifecyclestage"],
          deals: ["dealname", "amount"],
        },
      },
      "x-free-text": true,
      title: "Properties",
    },
  },
  required: ["connection"],
  type: "object",
};

const field = (fields: FormField[], key: string) => fields.find((f) => f.key === key)!;

describe("params hints for sources", () => {
  const fields = deriveFields(HUBSPOT);

  it("shows an enum's values by their labels (x-labels)", () => {
    expect(field(fields, "resource").options).toEqual([
      { value: "contacts", label: "Contacts" },
      { value: "companies", label: "Companies" },
      { value: "deals", label: "Deals" },
    ]);
    const metric = deriveFields({ properties: { m: { enum: ["f1", "roc_auc"], type: "string", "x-labels": { roc_auc: "ROC AUC" } } } });
    expect(metric[0].options?.map((o) => o.label)).toEqual(["f1", "ROC AUC"]);
  });

  it("suggests properties by the resource chosen, the resource's default while none is set", () => {
    const props = field(fields, "properties");
    expect(props.kind).toBe("choice-list");
    expect(props.freeText).toBe(true);
    expect(choicesBy(props, { resource: "deals" })).toEqual(["dealname", "amount"]);
    expect(choicesBy(props, { resource: "companies" })?.[0]).toBe("name");
    expect(choicesBy(props, {})).toEqual(["email", "firstname", "lastname", "lifecyclestage"]);
    expect(choicesBy(props, undefined)).toEqual(["email", "firstname", "lastname", "lifecyclestage"]);
    // A value the table does not list (or a prototype key) suggests nothing rather than failing.
    expect(choicesBy(props, { resource: "tickets" })).toBeNull();
    expect(choicesBy(props, { resource: "constructor" })).toBeNull();
    expect(defaultParams(HUBSPOT)).toEqual({ incremental: true, resource: "contacts" });
  });

  it("asks the source for the choices of x-options-from fields, one value or several", () => {
    const sql = deriveFields({
      properties: {
        table: { anyOf: [{ type: "string" }, { type: "null" }], default: null, "x-options-from": "source" },
        columns: { items: { type: "string" }, type: "array", "x-options-from": "source" },
      },
    });
    expect(sql[0]).toMatchObject({ kind: "choice", nullable: true, choices: { from: "source" }, freeText: false });
    expect(sql[1]).toMatchObject({ kind: "choice-list", choices: { from: "source" } });
    expect(choicesBy(sql[0], { table: "x" })).toBeNull();
  });

  it("asks with the other params only: picking a value does not ask again", () => {
    expect(optionParams({ connection: "c1", table: "orders", columns: ["id"] }, "columns")).toEqual({
      connection: "c1",
      table: "orders",
    });
    expect(optionParams(undefined, "table")).toEqual({});
    expect(optionValues(["orders", "customers", "orders"])).toEqual(["orders", "customers"]);
    expect(optionValues([{ value: "Sheet1", label: "Sheet 1" }, null, 3])).toEqual(["Sheet1", "3"]);
    expect(optionValues({ not: "a list" })).toEqual([]);
  });

  it("says the server's refusal once, with what it says of the other params", () => {
    const one = new ApiError(400, "Choose the connection first.", { fields: { connection: ["Choose the connection first."] } });
    expect(refusalMessage(one)).toBe("Choose the connection first.");
    const two = new ApiError(400, "table: too long", { fields: { "params.table": ["too long"], "params.columns.0": ["empty"] } });
    expect(refusalMessage(two)).toBe("table: too long (columns.0: empty)");
    expect(refusalMessage(new ApiError(503, "HubSpot: could not reach the system; try again."))).toBe(
      "HubSpot: could not reach the system; try again.",
    );
  });

  it("edits a pasted service-account key in a text area", () => {
    const [json, token] = deriveFields({
      properties: {
        service_account_json: { format: "password", type: "string", writeOnly: true },
        access_token: { format: "password", type: "string", writeOnly: true },
      },
    });
    expect(json).toMatchObject({ kind: "text", multiline: true, format: "password" });
    expect(token.multiline).toBe(false);
  });
});

describe("the choices combobox", () => {
  const props = ["email", "firstname", "lastname", "lifecyclestage", "hs_email_domain"];

  it("lists the choices starting with the text first, without the chips already taken", () => {
    expect(matchChoices(props, "")).toEqual(props);
    expect(matchChoices(props, "EMA")).toEqual(["email", "hs_email_domain"]);
    expect(matchChoices(props, "name", ["lastname"])).toEqual(["firstname"]);
    expect(matchChoices(props, "", ["email", "firstname"])).toEqual(["lastname", "lifecyclestage", "hs_email_domain"]);
  });

  it("adds typed values as chips where the field takes free text, each once", () => {
    expect(typedEntries(" hs_score, churn_risk ,,")).toEqual(["hs_score", "churn_risk"]);
    expect(typedEntries("1, x", "number")).toEqual([1, "x"]);
    const r = addEntries(["email"], ["hs_score", "email", "Firstname"], { freeText: true, choices: props });
    // A choice typed in another case is the choice.
    expect(r).toEqual({ next: ["email", "hs_score", "firstname"], refused: [] });
  });

  it("refuses a typed value that is none of the choices where only those are allowed", () => {
    const r = addEntries([], ["orders", "drop table"], { freeText: false, choices: ["orders", "customers"] });
    expect(r).toEqual({ next: ["orders"], refused: ["drop table"] });
    expect(refusedMessage(r.refused)).toBe("“drop table” is not one of the choices.");
    expect(refusedMessage(["a", "b"])).toBe("“a”, “b” are not among the choices.");
    expect(refusedMessage([])).toBeNull();
    // Choices not known (not loaded, or refused by the server): the server checks the value.
    expect(addEntries([], ["orders_2024"], { freeText: false, choices: null }).next).toEqual(["orders_2024"]);
  });
});

describe("a source's sample", () => {
  it("shows as a preview of all its rows", () => {
    const columns = [
      { name: "id", type: "int" },
      { name: "email", type: "str" },
    ];
    const p = sampleAsPreview({ columns, rows: [[1, "a@x.io"], [2, null]] });
    expect(p).toEqual({ columns, rows: [[1, "a@x.io"], [2, null]], stats: [], total_rows: 2 });
  });
});
