// A pipeline's cron schedules: list, pause/resume, edit, delete, and a form whose next fire
// times are previewed by the server while you type.
import { AlarmClock, Pencil, Plus, Trash2 } from "lucide-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { api, ApiError, errorMessage } from "../../api/client";
import { schedulesQuery } from "../../api/queries";
import { queryKeys } from "../../api/queryClient";
import { timeAgo } from "../../lib/format";
import { ConfirmDialog } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import type { Schedule, ScheduleInput } from "../../api/types";
import { Card, Hint, Link, SkeletonBlock, timeUntil } from "../common";
import { browserTimeZone, CRON_PRESETS, describeCron, formatInZone, timeZones } from "../cron";

type FieldErrors = Partial<Record<keyof ScheduleInput | "form", string>>;

function fieldErrors(err: unknown): FieldErrors {
  if (err instanceof ApiError) {
    const fields = (err.extra.fields ?? {}) as Record<string, string[] | string>;
    const out: FieldErrors = {};
    for (const [k, v] of Object.entries(fields)) {
      (out as Record<string, string>)[k] = Array.isArray(v) ? v.join(" ") : String(v);
    }
    if (!Object.keys(out).length) out.form = err.message;
    return out;
  }
  return { form: errorMessage(err) };
}

export function SchedulesPanel({ pipelineId }: { pipelineId: string }) {
  const qc = useQueryClient();
  const schedulesQ = useQuery(schedulesQuery(pipelineId));
  const schedules = schedulesQ.data ?? null;
  const error = schedulesQ.error ? errorMessage(schedulesQ.error) : null;
  // Show a change at once; the other schedule queries (the overview's) are marked stale.
  const setSchedules = (update: (list: Schedule[] | null) => Schedule[] | null) => {
    qc.setQueryData<Schedule[]>(queryKeys.schedules.list(pipelineId), (list) => update(list ?? null) ?? undefined);
    void qc.invalidateQueries({ queryKey: queryKeys.schedules.all, refetchType: "none" });
  };
  const [editing, setEditing] = useState<Schedule | "new" | null>(null);
  const [deleting, setDeleting] = useState<Schedule | null>(null);
  const [busy, setBusy] = useState<string | null>(null);


  const toggle = async (s: Schedule) => {
    setBusy(s.id);
    try {
      const updated = await api.updateSchedule(s.id, { enabled: !s.enabled });
      setSchedules((list) => list?.map((x) => (x.id === s.id ? updated : x)) ?? list);
      toast(updated.enabled ? "Schedule resumed." : "Schedule paused: it will not fire until resumed.", "success");
    } catch (err) {
      toast(`Could not update the schedule: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(null);
    }
  };

  const remove = async (s: Schedule) => {
    setBusy(s.id);
    try {
      await api.deleteSchedule(s.id);
      setSchedules((list) => list?.filter((x) => x.id !== s.id) ?? list);
      toast("Schedule deleted.", "success");
      setDeleting(null);
    } catch (err) {
      toast(`Could not delete: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(null);
    }
  };

  return (
    <Card
      title={
        <>
          <AlarmClock size={15} /> Schedules
        </>
      }
      subtitle="Run this pipeline on a cron schedule"
      testId="schedules"
      flush
      action={
        editing === null ? (
          <button className="btn btn-sm" onClick={() => setEditing("new")}>
            <Plus size={14} /> Add schedule
          </button>
        ) : null
      }
    >
      {error && <p className="field-error node-note">{error}</p>}
      {editing !== null && (
        <ScheduleForm
          pipelineId={pipelineId}
          schedule={editing === "new" ? null : editing}
          onDone={(saved) => {
            setEditing(null);
            if (saved) {
              setSchedules((list) => {
                const rest = (list ?? []).filter((x) => x.id !== saved.id);
                return editing === "new" ? [...rest, saved] : (list ?? []).map((x) => (x.id === saved.id ? saved : x));
              });
            }
          }}
        />
      )}
      {schedules === null ? (
        !error && <SkeletonBlock height={80} />
      ) : schedules.length === 0 ? (
        editing === null && (
          <Hint icon={<AlarmClock size={18} />} title="No schedule">
            Add one to run this pipeline every hour, every morning, or on any cron expression, in
            your time zone.
          </Hint>
        )
      ) : (
        <ul className="schedule-list">
          {schedules.map((s) => {
            const words = describeCron(s.cron);
            const next = s.enabled ? s.next_fire_at ?? s.upcoming[0] : null;
            return (
              <li key={s.id} className={s.enabled ? "" : "paused"} data-testid="schedule" data-enabled={s.enabled}>
                <div className="schedule-main">
                  <div className="schedule-what">
                    <code className="cron">{s.cron}</code>
                    <span className="schedule-words">{words ?? "Custom schedule"}</span>
                    <span className="muted small">· {s.timezone}</span>
                    {!s.enabled && <span className="tag">paused</span>}
                    {s.missed_policy === "run_once" && (
                      <span className="tag" title="After downtime, one run catches up for the missed fire times">
                        catch up once
                      </span>
                    )}
                  </div>
                  <div className="muted small">
                    {next ? (
                      <>
                        Next: <strong className="text-2">{formatInZone(next, s.timezone)}</strong> ({timeUntil(next)})
                      </>
                    ) : (
                      "Paused: it will not fire."
                    )}
                    {s.last_fires[0] && (
                      <>
                        {" "}
                        · last fired {timeAgo(s.last_fires[0].fire_time)}
                        {s.last_fires[0].run ? (
                          <>
                            {" "}
                            (<Link to={`/runs/${s.last_fires[0].run}`}>run</Link>)
                          </>
                        ) : s.last_fires[0].error ? (
                          <span className="text-danger" title={s.last_fires[0].error}>
                            {" "}
                            (could not start)
                          </span>
                        ) : null}
                      </>
                    )}
                  </div>
                </div>
                <label className="switch" title={s.enabled ? "Pause" : "Resume"}>
                  <input
                    type="checkbox"
                    checked={s.enabled}
                    disabled={busy === s.id}
                    aria-label={s.enabled ? `Pause schedule ${s.cron}` : `Resume schedule ${s.cron}`}
                    onChange={() => toggle(s)}
                  />
                  <span className="switch-track" />
                </label>
                <button className="icon-btn" aria-label={`Edit schedule ${s.cron}`} title="Edit" onClick={() => setEditing(s)}>
                  <Pencil size={15} />
                </button>
                <button
                  className="icon-btn icon-btn-danger"
                  aria-label={`Delete schedule ${s.cron}`}
                  title="Delete"
                  onClick={() => setDeleting(s)}
                >
                  <Trash2 size={15} />
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete this schedule?"
          message={
            <>
              <code>{deleting.cron}</code> ({deleting.timezone}) stops firing. Runs it started are kept.
            </>
          }
          confirmLabel="Delete"
          danger
          busy={busy === deleting.id}
          onConfirm={() => remove(deleting)}
          onCancel={() => setDeleting(null)}
        />
      )}
    </Card>
  );
}

function ScheduleForm({
  pipelineId,
  schedule,
  onDone,
}: {
  pipelineId: string;
  schedule: Schedule | null;
  onDone: (saved: Schedule | null) => void;
}) {
  const [cron, setCron] = useState(schedule?.cron ?? "0 6 * * *");
  const [tz, setTz] = useState(schedule?.timezone ?? browserTimeZone());
  const [policy, setPolicy] = useState<ScheduleInput["missed_policy"]>(schedule?.missed_policy ?? "skip");
  const [enabled, setEnabled] = useState(schedule?.enabled ?? true);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [preview, setPreview] = useState<string[] | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [saving, setSaving] = useState(false);
  const zones = useMemo(timeZones, []);

  // The server reads the expression (the one source of truth on cron syntax) as you type.
  useEffect(() => {
    const ctl = new AbortController();
    setPreviewing(true);
    const t = window.setTimeout(() => {
      api
        .previewSchedule({ cron, timezone: tz }, ctl.signal)
        .then((r) => {
          setPreview(r.upcoming);
          setErrors((e) => ({ ...e, cron: undefined, timezone: undefined }));
        })
        .catch((err) => {
          if (ctl.signal.aborted) return;
          setPreview(null);
          setErrors((e) => ({ ...e, cron: undefined, timezone: undefined, ...fieldErrors(err), form: undefined }));
        })
        .finally(() => !ctl.signal.aborted && setPreviewing(false));
    }, 250);
    return () => {
      window.clearTimeout(t);
      ctl.abort();
    };
  }, [cron, tz]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaving(true);
    const body: ScheduleInput = { cron: cron.trim(), timezone: tz, missed_policy: policy, enabled };
    try {
      const saved = schedule
        ? await api.updateSchedule(schedule.id, body)
        : await api.createSchedule(pipelineId, body);
      toast(schedule ? "Schedule saved." : "Schedule added.", "success");
      onDone(saved);
    } catch (err) {
      setErrors(fieldErrors(err));
      setSaving(false);
    }
  };

  const words = describeCron(cron);
  return (
    <form className="schedule-form" onSubmit={submit} data-testid="schedule-form">
      <div className="schedule-form-grid">
        <label className="field">
          <span className="field-label">Cron expression</span>
          <input
            className="mono-input"
            value={cron}
            onChange={(e) => setCron(e.target.value)}
            aria-invalid={!!errors.cron}
            aria-describedby="cron-help"
            spellCheck={false}
            autoFocus
          />
          {errors.cron ? (
            <span className="field-error" role="alert">
              {errors.cron}
            </span>
          ) : (
            <span className="field-help" id="cron-help">
              {words ?? "minute hour day-of-month month day-of-week"}
            </span>
          )}
        </label>
        <label className="field">
          <span className="field-label">Time zone</span>
          <select value={tz} onChange={(e) => setTz(e.target.value)} aria-invalid={!!errors.timezone}>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
          {errors.timezone && <span className="field-error">{errors.timezone}</span>}
        </label>
        <label className="field">
          <span className="field-label">After downtime</span>
          <select value={policy} onChange={(e) => setPolicy(e.target.value as ScheduleInput["missed_policy"])}>
            <option value="skip">Skip missed runs</option>
            <option value="run_once">Catch up with one run</option>
          </select>
        </label>
      </div>
      <div className="chips preset-chips">
        {CRON_PRESETS.map((p) => (
          <button type="button" key={p.cron} className={`chip${cron.trim() === p.cron ? " chip-on" : ""}`} onClick={() => setCron(p.cron)}>
            {p.label}
          </button>
        ))}
      </div>
      <div className="schedule-preview" aria-live="polite" data-testid="schedule-preview">
        <span className="field-label">Next fire times {previewing && <span className="muted small">· checking…</span>}</span>
        {preview && preview.length ? (
          <ol>
            {preview.map((t) => (
              <li key={t}>
                {formatInZone(t, tz)} <span className="muted small">({timeUntil(t)})</span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted small">{errors.cron || errors.timezone ? "Fix the expression to see when it fires." : "…"}</p>
        )}
      </div>
      {errors.form && <p className="field-error">{errors.form}</p>}
      <div className="schedule-form-actions">
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
        </label>
        <span className="spacer" />
        <button type="button" className="btn" onClick={() => onDone(null)}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={saving || !!errors.cron || !!errors.timezone}>
          {schedule ? "Save schedule" : "Add schedule"}
        </button>
      </div>
    </form>
  );
}
