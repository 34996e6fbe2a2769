// A table of records on TanStack Table: headless rows and columns, our markup and CSS.
import {
  createSortedRowModel,
  flexRender,
  rowSortingFeature,
  sortFn_alphanumeric,
  sortFn_basic,
  sortFn_datetime,
  sortFn_text,
  tableFeatures,
  useTable,
  type ColumnDef,
  type Row,
  type RowData,
  type SortingState,
} from "@tanstack/react-table";
import { ArrowDown, ArrowUp, ArrowUpDown } from "lucide-react";
import { useState, type HTMLAttributes, type ReactNode } from "react";

export const tableFeatureSet = tableFeatures({
  rowSortingFeature,
  sortedRowModel: createSortedRowModel(),
  sortFns: {
    basic: sortFn_basic,
    alphanumeric: sortFn_alphanumeric,
    text: sortFn_text,
    datetime: sortFn_datetime,
  },
});

export type Col<T extends RowData> = ColumnDef<typeof tableFeatureSet, T>;

export interface ColMeta {
  /** Right-aligned, tabular figures. */
  num?: boolean;
  /** A fixed width (CSS). */
  width?: string;
}

export function DataTable<T extends RowData>({
  columns,
  data,
  getRowId,
  onRowClick,
  rowProps,
  initialSorting = [],
  empty,
  label,
  className = "",
  sortable = true,
  footer,
  sorting: controlledSorting,
  onSortingChange,
}: {
  columns: Col<T>[];
  data: T[];
  getRowId?: (row: T, index: number) => string;
  onRowClick?: (row: T, e: React.MouseEvent | React.KeyboardEvent) => void;
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string>;
  initialSorting?: SortingState;
  empty?: ReactNode;
  label: string;
  className?: string;
  sortable?: boolean;
  footer?: ReactNode;
  /** Sorting owned by the caller (e.g. done by the server): rows are shown as given. */
  sorting?: SortingState;
  onSortingChange?: (next: SortingState) => void;
}) {
  const [ownSorting, setOwnSorting] = useState<SortingState>(initialSorting);
  const sorting = controlledSorting ?? ownSorting;
  const table = useTable({
    features: tableFeatureSet,
    columns,
    data,
    getRowId,
    state: { sorting },
    onSortingChange: (updater) => {
      const next = typeof updater === "function" ? updater(sorting) : updater;
      if (onSortingChange) onSortingChange(next);
      else setOwnSorting(next);
    },
    manualSorting: !!controlledSorting,
    enableSorting: sortable,
  });
  const rows = table.getRowModel().rows as Row<typeof tableFeatureSet, T>[];
  return (
    <div className={`grid-table-wrap ${className}`}>
      <table className="grid-table" aria-label={label}>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const meta = (header.column.columnDef.meta ?? {}) as ColMeta;
                const canSort = header.column.getCanSort();
                const dir = header.column.getIsSorted();
                const content = header.isPlaceholder
                  ? null
                  : flexRender(header.column.columnDef.header, header.getContext());
                return (
                  <th
                    key={header.id}
                    className={meta.num ? "num" : undefined}
                    style={meta.width ? { width: meta.width } : undefined}
                    aria-sort={dir === "asc" ? "ascending" : dir === "desc" ? "descending" : undefined}
                  >
                    {canSort ? (
                      <button
                        type="button"
                        className="th-sort"
                        onClick={header.column.getToggleSortingHandler()}
                      >
                        {content}
                        {dir === "asc" ? (
                          <ArrowUp size={12} />
                        ) : dir === "desc" ? (
                          <ArrowDown size={12} />
                        ) : (
                          <ArrowUpDown size={12} className="th-sort-idle" />
                        )}
                      </button>
                    ) : (
                      content
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {rows.map((row) => {
            const extra = rowProps?.(row.original) ?? {};
            return (
              <tr
                key={row.id}
                {...extra}
                className={[onRowClick ? "clickable" : "", extra.className ?? ""].join(" ").trim() || undefined}
                tabIndex={onRowClick ? 0 : undefined}
                onClick={onRowClick ? (e) => onRowClick(row.original, e) : undefined}
                onKeyDown={
                  onRowClick
                    ? (e) => {
                        if (e.key === "Enter" && e.target === e.currentTarget) onRowClick(row.original, e);
                      }
                    : undefined
                }
              >
                {row.getAllCells().map((cell) => {
                  const meta = (cell.column.columnDef.meta ?? {}) as ColMeta;
                  return (
                    <td key={cell.id} className={meta.num ? "num" : undefined}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.length === 0 && empty && <div className="grid-table-empty">{empty}</div>}
      {footer}
    </div>
  );
}
