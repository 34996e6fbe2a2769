// The uploads started on the datasets screen, each with its progress and outcome.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { errorMessage } from "../../api/http";
import { queryKeys, useWorkspaceId } from "../../api/queries";
import { uploadDataset, type Uploaded } from "./api";
import { uploadOutcome } from "./datasets";

export interface UploadItem {
  key: number;
  file: string;
  size: number;
  /** Bytes sent, 0..1. */
  fraction: number;
  /** "processing": every byte is sent and the server reads the table. */
  state: "uploading" | "processing" | "done" | "failed";
  message: string;
  result?: Uploaded;
}

let nextKey = 1;

export function useUploads(onDone: (d: Uploaded) => void) {
  const qc = useQueryClient();
  const workspace = useWorkspaceId();
  const [items, setItems] = useState<UploadItem[]>([]);
  const patch = (key: number, p: Partial<UploadItem>) =>
    setItems((xs) => xs.map((x) => (x.key === key ? { ...x, ...p } : x)));

  const start = useCallback(
    async (file: File, name?: string) => {
      const key = nextKey++;
      setItems((xs) => [
        { key, file: name ?? file.name, size: file.size, fraction: 0, state: "uploading", message: "" },
        ...xs.slice(0, 4),
      ]);
      try {
        const d = await uploadDataset(file, {
          name,
          workspace,
          onProgress: (f) => patch(key, f >= 1 ? { fraction: 1, state: "processing" } : { fraction: f }),
        });
        patch(key, { fraction: 1, state: "done", message: uploadOutcome(d), result: d });
        await qc.invalidateQueries({ queryKey: queryKeys.datasets.all });
        onDone(d);
      } catch (err) {
        patch(key, { state: "failed", message: errorMessage(err) });
      }
    },
    [qc, workspace, onDone],
  );
  const dismiss = useCallback((key: number) => setItems((xs) => xs.filter((x) => x.key !== key)), []);
  return { items, start, dismiss };
}
