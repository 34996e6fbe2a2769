import { ChevronDown, RotateCcw } from "lucide-react";
import { useEffect, useRef, useState } from "react";

/** The Run button's other option: a run that recomputes every node. */
export function RunMenu({ disabled, onForce }: { disabled: boolean; onForce: () => void }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      e.stopPropagation(); // closes the menu only, not the canvas selection too
      setOpen(false);
    };
    document.addEventListener("pointerdown", onDown);
    document.addEventListener("keydown", onKey);
    ref.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
    return () => {
      document.removeEventListener("pointerdown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
  return (
    <div ref={ref} style={{ display: "contents" }}>
      <button
        className="btn btn-primary run-more"
        aria-label="More run options"
        aria-haspopup="menu"
        aria-expanded={open}
        title="More run options"
        disabled={disabled}
        onClick={() => setOpen((o) => !o)}
      >
        <ChevronDown size={14} />
      </button>
      {open && (
        <div className="run-menu" role="menu" aria-label="Run options">
          <button
            role="menuitem"
            onClick={() => {
              setOpen(false);
              onForce();
            }}
          >
            <span>
              <RotateCcw size={13} /> Force re-run
            </span>
            <small>Recompute every node, ignoring cached outputs</small>
          </button>
        </div>
      )}
    </div>
  );
}
