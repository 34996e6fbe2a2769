// Field kind → widget. Adding a widget: one file in ./widgets exporting a `Widget`, one line here.
// Typed as a Record over every FieldKind, so a kind without a widget does not compile.
import type { FieldKind } from "../schemaForm";
import type { Widget } from "./types";
import { anyWidget } from "./widgets/AnyInput";
import { choiceWidget } from "./widgets/ChoiceInput";
import { columnWidget } from "./widgets/ColumnPicker";
import { columnsWidget } from "./widgets/ColumnsPicker";
import { connectionWidget } from "./widgets/ConnectionSelect";
import { datasetWidget } from "./widgets/DatasetPicker";
import { enumListWidget } from "./widgets/EnumChips";
import { enumWidget } from "./widgets/EnumSelect";
import { jsonWidget } from "./widgets/JsonInput";
import { listWidget } from "./widgets/ListInput";
import { registeredModelWidget } from "./widgets/ModelSelect";
import { numberWidget } from "./widgets/NumberInput";
import { objectWidget } from "./widgets/ObjectFieldset";
import { objectsWidget } from "./widgets/ObjectList";
import { scalarWidget } from "./widgets/ScalarInput";
import { switchWidget } from "./widgets/Switch";
import { textWidget } from "./widgets/TextInput";

export const WIDGETS: Readonly<Record<FieldKind, Widget>> = {
  text: textWidget,
  number: numberWidget,
  integer: numberWidget,
  boolean: switchWidget,
  enum: enumWidget,
  column: columnWidget,
  columns: columnsWidget,
  dataset: datasetWidget,
  connection: connectionWidget,
  "registered-model": registeredModelWidget,
  choice: choiceWidget,
  "choice-list": choiceWidget,
  list: listWidget,
  "enum-list": enumListWidget,
  objects: objectsWidget,
  object: objectWidget,
  scalar: scalarWidget,
  any: anyWidget,
  json: jsonWidget,
};

/** The widget of a kind; a kind this build does not know is edited as JSON. */
export function widgetFor(kind: string): Widget {
  return Object.hasOwn(WIDGETS, kind) ? WIDGETS[kind as FieldKind] : WIDGETS.json;
}
