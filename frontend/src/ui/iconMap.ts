// Every lucide icon by PascalCase name, aliases included ("filter" → Filter, an alias of
// Funnel). Loaded lazily: it is most of the icon library.
import * as lucide from "lucide-react";
import type { LucideIcon } from "lucide-react";

const NOT_ICONS = new Set(["Icon", "icons", "createLucideIcon", "LucideProvider", "useLucideContext"]);

export const icons: Record<string, LucideIcon> = Object.fromEntries(
  Object.entries(lucide).filter(
    ([name, value]) =>
      !NOT_ICONS.has(name) && /^[A-Z]/.test(name) && value !== null && typeof value === "object",
  ),
) as Record<string, LucideIcon>;
