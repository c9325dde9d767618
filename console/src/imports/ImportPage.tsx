/** 导入商品资料: a catalogue sheet (CSV or XLSX) → the API's dry run (new SKUs, changed fields, opening units per
 * warehouse, bad rows with their lines) → apply, with the proposed adjustments the seller accepts, and a progress
 * bar while the import is booked. Nothing is written before "Apply". */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { ImportJob, ProposedAdjustment } from "../api/client";
import { useApp } from "../AppContext";
import { can } from "../auth/roles";
import { DataTable } from "../components/DataTable";
import { ErrorState } from "../components/States";
import { useJobPolling } from "../components/useJobPolling";
import { download } from "../lib/export";
import { acceptBody, fileAsCsv, uploadSheet } from "./sheet";

type Upload = { phase: "idle" } | { phase: "reading" } | { phase: "sending"; done: number; total: number };

export function ImportPage({ pollMs = 800 }: { pollMs?: number }) {
  const { t } = useTranslation();
  const { api, session } = useApp();
  const staff = can(session?.roles, "staff");
  const [file, setFile] = useState<File | null>(null);
  const [upload, setUpload] = useState<Upload>({ phase: "idle" });
  const [job, setJob] = useState<ImportJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [applying, setApplying] = useState(false);
  const polling = useJobPolling(job, setJob, (j) => api.importJob(j.import_id), (j) => j.status === "applying", pollMs);

  const send = async () => {
    if (!file) { setError(new Error(t("imports.pickFile"))); return; }
    setError(null);
    setJob(null);
    setUpload({ phase: "reading" });
    try {
      const text = await fileAsCsv(file);
      setUpload({ phase: "sending", done: 0, total: 1 });
      setJob(await uploadSheet(api, text, (done, total) => setUpload({ phase: "sending", done, total })));
    } catch (err) {
      setError(err);
    } finally {
      setUpload({ phase: "idle" });
    }
  };
  const apply = async (accept: "all" | string[]) => {
    if (!job) return;
    setApplying(true);
    setError(null);
    try {
      setJob(await api.applyImport(job.import_id, accept));
    } catch (err) {
      setError(err);
    } finally {
      setApplying(false);
    }
  };
  const template = async (lang: "en" | "zh") => {
    setError(null);
    try {
      const text = await api.importTemplate(lang);
      download(`\uFEFF${text.replace(/^\uFEFF/, "")}`, `stocklink-catalog-template-${lang}.csv`, "text/csv;charset=utf-8");
    } catch (err) {
      setError(err);
    }
  };
  const busy = upload.phase !== "idle" || applying;
  return (
    <section aria-labelledby="import-title">
      <h1 id="import-title">{t("imports.title")}</h1>
      <p className="note">{t("imports.intro")}</p>
      <div className="actions-row">
        <button type="button" onClick={() => void template("en")} data-template="en">{t("imports.templateEn")}</button>
        <button type="button" onClick={() => void template("zh")} data-template="zh">{t("imports.templateZh")}</button>
      </div>
      {staff ? (
        <form className="po-form" data-form="import" onSubmit={(e) => { e.preventDefault(); void send(); }}>
          <label htmlFor="import-file">{t("imports.file")}</label>
          <input id="import-file" type="file" accept=".csv,.xlsx,.xlsm,text/csv"
                 onChange={(e) => { setFile(e.target.files?.[0] ?? null); setJob(null); setError(null); }} />
          <p className="help">{t("imports.fileHelp")}</p>
          <button type="submit" disabled={busy}>{t("imports.dryRun")}</button>
          {upload.phase === "reading" && <p role="status">{t("imports.reading")}</p>}
          {upload.phase === "sending" && <p role="status">{t("imports.sending", { done: upload.done, total: upload.total })}</p>}
        </form>
      ) : <p className="note">{t("imports.staffOnly")}</p>}
      {error ? <ErrorState error={error} /> : null}
      {job && <ImportJobView job={job} staff={staff} applying={applying} onApply={(accept) => void apply(accept)} />}
      {polling.error ? <ErrorState error={polling.error} onRetry={polling.retry} /> : null}
    </section>
  );
}

export function ImportJobView({ job, staff, applying, onApply }: {
  job: ImportJob; staff: boolean; applying: boolean; onApply: (accept: "all" | string[]) => void;
}) {
  const { t } = useTranslation();
  const s = job.summary;
  const preview = job.preview;
  return (
    <div data-import={job.import_id} data-import-status={job.status}>
      <h2>{t("imports.dryRunTitle", { id: job.import_id })}</h2>
      {job.status === "invalid" ? (
        <>
          <p role="alert" className="error" data-import-invalid>{t("imports.invalid", { count: job.error_count ?? 0, rows: job.rows ?? 0 })}</p>
          <DataTable name="import-errors" caption={t("imports.errors")} rows={job.errors ?? []} rowKey={(e) => `${e.line}:${e.message}`}
                     empty={t("imports.noErrors")}
                     columns={[{ key: "line", label: t("imports.line"), type: "int" }, { key: "message", label: t("imports.reason") }]} />
          {(job.error_count ?? 0) > (job.errors?.length ?? 0) && (
            <p className="note">{t("imports.moreErrors", { count: (job.error_count ?? 0) - (job.errors?.length ?? 0) })}</p>)}
        </>
      ) : job.status === "receiving" ? (
        <p role="status">{t("imports.receiving", { done: job.parts_received, total: job.parts })}</p>
      ) : (
        <>
          {s && <p data-import-summary>{t("imports.summary", { rows: job.rows ?? 0, created: s.new_skus, updated: s.updated_skus,
            unchanged: s.unchanged_skus, adjustments: s.proposed_adjustments })}</p>}
          <DataTable name="import-opening" caption={t("imports.openingUnits")}
                     rows={Object.entries(s?.opening_units ?? {}).map(([warehouse_id, units]) => ({ warehouse_id, units }))}
                     rowKey={(r) => r.warehouse_id} empty={t("imports.noOpening")}
                     columns={[{ key: "warehouse_id", label: t("fields.warehouse") }, { key: "units", label: t("imports.units"), type: "int" }]} />
          <DataTable name="import-new" caption={t("imports.newSkus")} rows={(preview?.new_skus ?? []).map((sku) => ({ sku }))}
                     rowKey={(r) => r.sku} empty={t("imports.noNew")} columns={[{ key: "sku", label: t("fields.sku") }]} />
          <DataTable name="import-updated" caption={t("imports.updatedSkus")} rows={(preview?.updated_skus ?? []).flatMap((u) =>
                       Object.entries(u.changes).map(([field, c]) => ({ sku: u.sku, field, from: c.from, to: c.to })))}
                     rowKey={(r) => `${r.sku}/${r.field}`} empty={t("imports.noUpdated")}
                     columns={[{ key: "sku", label: t("fields.sku") }, { key: "field", label: t("imports.field") },
                       { key: "from", label: t("imports.from"), value: (r) => show(r.from) },
                       { key: "to", label: t("imports.to"), value: (r) => show(r.to) }]} />
          {job.status === "ready" && staff && (
            <ApplyForm job={job} adjustments={preview?.proposed_adjustments ?? []} busy={applying} onApply={onApply} />)}
          {job.status === "ready" && !staff && <ProposedAdjustments rows={preview?.proposed_adjustments ?? []} />}
          {(job.status === "applying" || job.status === "applied") && <ApplyProgress job={job} />}
        </>
      )}
    </div>
  );
}

const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));

function ProposedAdjustments({ rows, chosen, toggle }: {
  rows: ProposedAdjustment[]; chosen?: ReadonlySet<string>; toggle?: (key: string) => void;
}) {
  const { t } = useTranslation();
  return (
    <DataTable<ProposedAdjustment> name="import-adjustments" caption={t("imports.adjustments")} rows={rows} rowKey={(a) => a.key}
               empty={t("imports.noAdjustments")}
               columns={[
                 ...(chosen && toggle ? [{ key: "accept", label: t("imports.accept"), exported: false,
                   render: (a: ProposedAdjustment) => <input type="checkbox" checked={chosen.has(a.key)} data-accept={a.key}
                     aria-label={t("imports.acceptOne", { key: a.key })} onChange={() => toggle(a.key)} /> }] : []),
                 { key: "sku", label: t("fields.sku") }, { key: "warehouse_id", label: t("fields.warehouse") },
                 { key: "on_hand", label: t("fields.on_hand"), type: "int" }, { key: "counted", label: t("imports.counted"), type: "int" },
                 { key: "delta", label: t("imports.delta"), type: "int" },
               ]} />
  );
}

function ApplyForm({ job, adjustments, busy, onApply }: {
  job: ImportJob; adjustments: ProposedAdjustment[]; busy: boolean; onApply: (accept: "all" | string[]) => void;
}) {
  const { t } = useTranslation();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [all, setAll] = useState(false);
  const total = job.summary?.proposed_adjustments ?? adjustments.length;
  const toggle = (key: string) => setChosen((c) => { const n = new Set(c); if (n.has(key)) n.delete(key); else n.add(key); return n; });
  return (
    <div className="po-form" data-form="import-apply">
      {total > 0 && (
        <>
          <p className="help">{t("imports.adjustmentsHelp")}</p>
          <ProposedAdjustments rows={adjustments} chosen={all ? new Set(adjustments.map((a) => a.key)) : chosen} toggle={all ? () => {} : toggle} />
          {total > adjustments.length && <p className="note">{t("imports.moreAdjustments", { shown: adjustments.length, count: total })}</p>}
          <label><input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} data-accept-all />
            {" "}{t("imports.acceptAll", { count: total })}</label>
        </>
      )}
      <button type="button" disabled={busy} data-apply-import onClick={() => onApply(acceptBody(all, chosen))}>
        {t("imports.apply")}</button>
    </div>
  );
}

function ApplyProgress({ job }: { job: ImportJob }) {
  const { t } = useTranslation();
  const { chunks, chunks_done: done, percent } = job.progress;
  return (
    <div data-apply-progress>
      <label htmlFor="import-progress">{job.status === "applied" ? t("imports.applied") : t("imports.applying", { done, total: chunks })}</label>
      <progress id="import-progress" max={100} value={percent} aria-valuetext={`${percent} %`} />
      {job.refused.length > 0 && (
        <DataTable name="import-refused" caption={t("imports.refused")} rows={job.refused} rowKey={(r) => r.key} empty=""
                   columns={[{ key: "key", label: t("imports.adjustment") }, { key: "delta", label: t("imports.delta"), type: "int" },
                     { key: "reason", label: t("imports.reason") }]} />)}
    </div>
  );
}
