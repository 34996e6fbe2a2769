import { Boxes, BrainCircuit, Database, Shuffle, Workflow, Zap, type LucideIcon } from "lucide-react";
import { useSyncExternalStore } from "react";
import type { Category } from "../api/types";

export const CATEGORY_ICON: Record<Category, LucideIcon> = {
  connector: Database,
  transform: Shuffle,
  model: BrainCircuit,
  action: Zap,
  pipeline: Workflow,
};

export const CATEGORY_LABEL: Record<Category, string> = {
  connector: "Connectors",
  transform: "Transforms",
  model: "Models",
  action: "Actions",
  pipeline: "Pipelines",
};

export const CATEGORIES: Category[] = ["connector", "transform", "model", "action", "pipeline"];

export function pascal(name: string): string {
  return name
    .split(/[-_ ]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

// The full icon set arrives in its own chunk; until then nodes show their category's icon.
let ICONS: Record<string, LucideIcon> | null = null;
const listeners = new Set<() => void>();
let loading: Promise<void> | null = null;

function ensureIcons() {
  if (ICONS || loading || typeof window === "undefined") return;
  loading = import("./iconMap")
    .then((m) => {
      ICONS = m.icons;
      listeners.forEach((l) => l());
    })
    .catch(() => {
      loading = null;
    });
}

function subscribe(cb: () => void) {
  listeners.add(cb);
  ensureIcons();
  return () => listeners.delete(cb);
}

export function iconFor(name: string | undefined, category: Category | undefined): LucideIcon {
  if (name && ICONS) {
    const icon = ICONS[pascal(name)] ?? ICONS[name];
    if (icon) return icon;
  }
  return category ? CATEGORY_ICON[category] : Boxes;
}

export function OperatorIcon({
  name,
  category,
  size = 16,
}: {
  name?: string;
  category?: Category;
  size?: number;
}) {
  useSyncExternalStore(subscribe, () => ICONS, () => ICONS);
  const Icon = iconFor(name, category);
  return <Icon size={size} aria-hidden="true" />;
}
