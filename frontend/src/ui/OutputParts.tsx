// What the two views of a node's output share (the editor's output drawer and the run page's
// node panel): the port switch, the preview table, the download links and the written files.
import { Download, FileText } from "lucide-react";
import { outputUrl } from "../api/client";
import type { NodeFile, Preview } from "../api/types";
import { formatCell } from "../lib/format";
import { TabList, type TabItem } from "./TabList";

const isNumeric = (type: string | undefined) => type === "int" || type === "float";

/** Which output port to show; nothing for a node with a single one. */
export function PortSwitch({
  ports,
  active,
  onSelect,
}: {
  ports: TabItem<string>[];
  active: string;
  onSelect: (port: string) => void;
}) {
  if (ports.length < 2) return null;
  return (
    <TabList
      className="segmented"
      label="Output port"
      title="Output port"
      items={ports}
      active={active}
      onSelect={onSelect}
    />
  );
}

/** The preview rows of an output port, numbered, under each column's name and type. */
export function PreviewTable({ preview }: { preview: Preview }) {
  return (
    <table className="data-table">
      <thead>
        <tr>
          <th className="rownum">#</th>
          {preview.columns.map((c) => (
            <th key={c.name} className={isNumeric(c.type) ? "num" : undefined}>
              <span className="th-name">{c.name}</span>
              <span className="th-type">{c.type}</span>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {preview.rows.map((row, i) => (
          <tr key={i}>
            <td className="rownum">{i + 1}</td>
            {row.map((v, j) => {
              const missing = v === null || v === undefined;
              return (
                <td
                  key={j}
                  className={missing ? "null" : isNumeric(preview.columns[j]?.type) ? "num" : undefined}
                  title={formatCell(v)}
                >
                  {missing ? "null" : formatCell(v)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The port's table as CSV and as Parquet. */
export function DownloadLinks({ runId, nodeId, port }: { runId: string; nodeId: string; port: string }) {
  return (
    <>
      <a className="btn btn-sm" href={outputUrl(runId, nodeId, port, "csv")} download>
        <Download size={14} /> CSV
      </a>
      <a className="btn btn-sm" href={outputUrl(runId, nodeId, port, "parquet")} download>
        <Download size={14} /> Parquet
      </a>
    </>
  );
}

/** The files a node wrote (an export, a report), each a download link. */
export function OutputFiles({ files }: { files: NodeFile[] }) {
  return (
    <ul className="files">
      {files.map((f) => (
        <li key={f.url}>
          <FileText size={14} />
          <a href={f.url} download>
            {f.name}
          </a>
        </li>
      ))}
    </ul>
  );
}
