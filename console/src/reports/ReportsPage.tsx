/** 报表: each report over a chosen period, its health band, its table (exportable) and a chart of it. */
import { useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { Report, ReportInfo } from "../api/client";
import { useApp } from "../AppContext";
import { BandBadge } from "../components/Badge";
import { Chart } from "../components/Chart";
import { DataTable, type Column } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { fmtCell, isoDay } from "../lib/format";
import { periodFor, PRESETS, type Preset } from "./period";

export function ReportsPage() {
  const { t, i18n } = useTranslation();
  const { api } = useApp();
  const { name } = useParams();
  const list = useLoad(async () => {
    const answer = await api.reports();
    return Array.isArray(answer) ? answer : answer.reports;
  }, [api]);
  const title = (r: ReportInfo) => (i18n.language.startsWith("zh") ? r.title_zh : r.title_en) || r.name;
  return (
    <section aria-labelledby="rep-title">
      <h1 id="rep-title">{t("reports.title")}</h1>
      {list.loading ? <Loading /> : list.error ? <ErrorState error={list.error} onRetry={list.reload} /> : (
        <nav aria-label={t("reports.list")} className="tabs">
          {(list.data ?? []).map((r) => <Link key={r.name} to={`/reports/${r.name}`} aria-current={r.name === name ? "page" : undefined}>{title(r)}</Link>)}
        </nav>
      )}
      {name ? <ReportView name={name} title={list.data?.find((r) => r.name === name)} />
        : !list.error && <p className="note">{t("reports.pick")}</p>}
    </section>
  );
}

function ReportView({ name, title }: { name: string; title?: ReportInfo }) {
  const { t, i18n } = useTranslation();
  const { api } = useApp();
  const [preset, setPreset] = useState<Preset>("30d");
  const [range, setRange] = useState(() => periodFor("30d", new Date()));
  const [warehouse, setWarehouse] = useState("");
  const warehouses = useLoad(() => api.warehouses(), [api]);
  const [extra, setExtra] = useState<{ rows: Record<string, unknown>[]; next: string | null } | null>(null);
  const report = useLoad(async () => {
    setExtra(null);
    return api.report(name, { from: range.from, to: range.to, warehouse_id: warehouse, limit: 500 });
  }, [api, name, range.from, range.to, warehouse]);
  const rows = [...(report.data?.rows ?? []), ...(extra?.rows ?? [])];
  const next = extra ? extra.next : report.data?.next ?? null;
  const more = async () => {
    const page = await api.report(name, { from: range.from, to: range.to, warehouse_id: warehouse, limit: 500, cursor: next ?? undefined });
    setExtra({ rows: [...(extra?.rows ?? []), ...page.rows], next: page.next });
  };
  const choose = (p: Preset) => { setPreset(p); if (p !== "custom") setRange(periodFor(p, new Date())); };
  const label = title ? (i18n.language.startsWith("zh") ? title.title_zh : title.title_en) : name;
  return (
    <div className="report" data-report={name}>
      <h2>{label}</h2>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("reports.period")}>
        <label>{t("reports.period")}
          <select value={preset} onChange={(e) => choose(e.target.value as Preset)}>
            {PRESETS.map((p) => <option key={p} value={p}>{t(`reports.presets.${p}`)}</option>)}
          </select>
        </label>
        <label>{t("reports.from")}
          <input type="date" value={range.from} max={range.to} onChange={(e) => { setPreset("custom"); setRange({ ...range, from: e.target.value }); }} />
        </label>
        <label>{t("reports.to")}
          <input type="date" value={range.to} min={range.from} max={isoDay(new Date())} onChange={(e) => { setPreset("custom"); setRange({ ...range, to: e.target.value }); }} />
        </label>
        <label>{t("fields.warehouse")}
          <select value={warehouse} onChange={(e) => setWarehouse(e.target.value)}>
            <option value="">{t("board.allWarehouses")}</option>
            {(warehouses.data ?? []).map((w) => <option key={w.warehouse_id} value={w.warehouse_id}>{w.name || w.warehouse_id}</option>)}
          </select>
        </label>
      </form>
      {report.loading ? <Loading /> : report.error ? <ErrorState error={report.error} onRetry={report.reload} /> : report.data && (
        <>
          <p className="summary">
            {t("reports.value")}: <strong>{report.data.summary.value === null ? "—" : fmtCell(report.data.summary.value, "number", i18n.language)}</strong>{" "}
            <BandBadge band={report.data.summary.band} />
          </p>
          <ReportChart report={report.data} rows={rows} />
          <DataTable name={`report-${name}-${range.from}-${range.to}`} caption={label} rows={rows}
                     rowKey={(r) => JSON.stringify(r)} empty={t("reports.empty")}
                     columns={report.data.columns.map((c): Column<Record<string, unknown>> => ({
                       key: c.key, label: t(`reports.columns.${c.key}`, { defaultValue: c.key }), type: c.type,
                     }))} />
          {next && <button type="button" onClick={() => void more()}>{t("actions.more")}</button>}
        </>
      )}
    </div>
  );
}

function ReportChart({ report, rows }: { report: Report; rows: Record<string, unknown>[] }) {
  const { t } = useTranslation();
  const option = useMemo(() => {
    const category = report.columns.find((c) => c.type === "text" || c.type === "date");
    const values = report.columns.filter((c) => ["int", "number", "percent", "money"].includes(c.type)).slice(0, 2);
    if (!category || !values.length) return null;
    const top = rows.slice(0, 30);
    return {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 60, right: 30, top: 40, bottom: 60 },
      xAxis: { type: "category", data: top.map((r) => String(r[category.key] ?? "")), axisLabel: { rotate: 30 } },
      yAxis: { type: "value" },
      series: values.map((v) => ({ name: t(`reports.columns.${v.key}`, { defaultValue: v.key }), type: "bar", data: top.map((r) => r[v.key] ?? null) })),
    };
  }, [report, rows, t]);
  return option ? <Chart option={option} label={t("reports.chart")} /> : null;
}
