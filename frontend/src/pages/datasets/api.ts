// The datasets screen's calls and queries: a version's preview and column statistics, delete,
// and the upload with progress (XMLHttpRequest: fetch reports no upload progress). Writes
// invalidate the dataset list, so every picker shows the change.
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { queryKeys } from "../../api/queries";
import { ApiError, NETWORK_ERROR, SESSION_EXPIRED, currentCsrf, http, toApiError, unwrap, withWorkspace } from "../../api/http";
import type { components } from "../../api/schema";
import type { Dataset } from "../../api/types";

export type DatasetPreview = components["schemas"]["DatasetPreviewOutput"];
export type DatasetStats = components["schemas"]["DatasetStatsOutput"];
export type ColumnProfile = components["schemas"]["DatasetColumnStatsOutput"];
export type Uploaded = Dataset & { unchanged: boolean };

const one = (id: string) => ({ path: { dataset_id: id } });

export const datasetsApi = {
  preview: (id: string, rows = 50) =>
    unwrap(http.GET("/api/datasets/{dataset_id}/preview/", { params: { ...one(id), query: { rows } } })) as Promise<DatasetPreview>,
  stats: (id: string) =>
    unwrap(http.GET("/api/datasets/{dataset_id}/stats/", { params: one(id) })) as Promise<DatasetStats>,
  remove: (id: string, allVersions: boolean) =>
    unwrap(
      http.DELETE("/api/datasets/{dataset_id}/", { params: { ...one(id), query: { all_versions: allVersions } } }),
    ) as Promise<{ deleted: number }>,
};

// A version never changes, so what is read of it stays good.
export const previewQuery = (id: string) =>
  queryOptions({ queryKey: ["dataset-preview", id] as const, queryFn: () => datasetsApi.preview(id), staleTime: Infinity });
export const statsQuery = (id: string) =>
  queryOptions({ queryKey: ["dataset-stats", id] as const, queryFn: () => datasetsApi.stats(id), staleTime: Infinity });

export function useDeleteDataset() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { id: string; allVersions: boolean }) => datasetsApi.remove(v.id, v.allVersions),
    onSettled: () => void qc.invalidateQueries({ queryKey: queryKeys.datasets.all }),
  });
}

export function useDatasetPreview(id: string | null) {
  return useQuery({ ...previewQuery(id ?? ""), enabled: !!id });
}

export function useDatasetStats(id: string | null) {
  return useQuery({ ...statsQuery(id ?? ""), enabled: !!id });
}

/**
 * POST the file to /api/datasets/ as multipart form data, reporting the bytes sent. `name`
 * (default: the file's) is the dataset it becomes a version of. Errors are ApiErrors as the
 * typed client throws them: the server's message (a 413 names the limit), or a network error.
 */
export function uploadDataset(
  file: File,
  opts: { name?: string; workspace?: string | null; onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<Uploaded> {
  const form = new FormData();
  form.append("file", file);
  if (opts.name) form.append("name", opts.name);
  if (opts.workspace) form.append("workspace", opts.workspace);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", withWorkspace("/api/datasets/"));
    xhr.setRequestHeader("X-CSRFToken", currentCsrf());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) opts.onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (/\/accounts\/login\//.test(xhr.responseURL)) {
        window.location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
        reject(new ApiError(401, SESSION_EXPIRED));
        return;
      }
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as Uploaded);
      else reject(toApiError({ status: xhr.status, statusText: xhr.statusText } as Response, body));
    };
    xhr.onerror = () => reject(new ApiError(0, NETWORK_ERROR));
    xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    opts.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(form);
  });
}
