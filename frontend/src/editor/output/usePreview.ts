import { useQuery } from "@tanstack/react-query";
import { errorMessage } from "../../api/client";
import type { Preview } from "../../api/types";
import { previewQuery } from "../queries";

/** The preview of one output port of a finished node (none for models). */
export function usePreview(
  runId: string,
  nodeId: string,
  port: string,
  ready: boolean,
  isModel: boolean,
): { preview: Preview | null; error: string | null; loading: boolean } {
  const enabled = ready && !isModel && !!port;
  const q = useQuery({ ...previewQuery(runId, nodeId, port), enabled });
  if (!enabled) return { preview: null, error: null, loading: false };
  return { preview: q.data ?? null, error: q.error ? errorMessage(q.error) : null, loading: q.isPending };
}
