// One registered model through the query cache; an alias change writes the answer back into
// it and marks every model list stale (pickers and the models page show the new alias).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { errorMessage } from "../../api/client";
import { modelQuery } from "../../api/queries";
import { queryKeys } from "../../api/queryClient";
import type { ModelDetail } from "../../api/types";

export function useModel(modelId: string): {
  model: ModelDetail | null;
  error: string | null;
  reload: () => void;
  setModel: (m: ModelDetail) => void;
} {
  const qc = useQueryClient();
  const q = useQuery(modelQuery(modelId));
  const { refetch } = q;
  const reload = useCallback(() => void refetch(), [refetch]);
  const setModel = useCallback(
    (m: ModelDetail) => {
      qc.setQueryData(queryKeys.models.one(modelId), m);
      void qc.invalidateQueries({ queryKey: queryKeys.models.all, refetchType: "none" });
    },
    [qc, modelId],
  );
  return { model: q.data ?? null, error: q.error ? errorMessage(q.error) : null, reload, setModel };
}
