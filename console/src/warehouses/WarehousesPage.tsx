/** Stock and its value per warehouse (chart and table), in transit beside it. */
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { Warehouse, WarehouseSummary } from "../api/client";
import { useApp } from "../AppContext";
import { Chart } from "../components/Chart";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";

export function WarehousesPage() {
  const { t } = useTranslation();
  const { api } = useApp();
  const summary = useLoad(() => api.warehouseSummary(), [api]);
  const list = useLoad(() => api.warehouses(), [api]);
  const rows = summary.data?.warehouses ?? [];
  const option = useMemo(() => ({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 60, right: 60, top: 40, bottom: 30 },
    xAxis: { type: "category", data: rows.map((w) => w.name || w.warehouse_id) },
    yAxis: [{ type: "value", name: t("warehouses.units") }, { type: "value", name: t("warehouses.value") }],
    series: [
      { name: t("fields.available"), type: "bar", stack: "units", data: rows.map((w) => w.available) },
      { name: t("fields.reserved"), type: "bar", stack: "units", data: rows.map((w) => w.reserved) },
      { name: t("fields.in_transit"), type: "bar", stack: "units", data: rows.map((w) => w.in_transit) },
      { name: t("fields.stock_value"), type: "line", yAxisIndex: 1, data: rows.map((w) => w.stock_value) },
      { name: t("fields.in_transit_value"), type: "line", yAxisIndex: 1, data: rows.map((w) => w.in_transit_value) },
    ],
  }), [rows, t]);
  return (
    <section aria-labelledby="wh-title">
      <h1 id="wh-title">{t("warehouses.title")}</h1>
      {summary.loading ? <Loading /> : summary.error ? <ErrorState error={summary.error} onRetry={summary.reload} /> : (
        <>
          <Chart option={option} label={t("warehouses.chart")} />
          <DataTable<WarehouseSummary> name="warehouses-summary" caption={t("warehouses.summary")} rows={rows}
                     rowKey={(w) => w.warehouse_id} empty={t("warehouses.empty")}
                     columns={[
                       { key: "warehouse_id", label: t("fields.warehouse") },
                       { key: "name", label: t("fields.name") },
                       { key: "skus", label: t("fields.skus"), type: "int" },
                       { key: "on_hand", label: t("fields.on_hand"), type: "int" },
                       { key: "reserved", label: t("fields.reserved"), type: "int" },
                       { key: "available", label: t("fields.available"), type: "int" },
                       { key: "in_transit", label: t("fields.in_transit"), type: "int" },
                       { key: "stock_value", label: t("fields.stock_value"), type: "money" },
                       { key: "in_transit_value", label: t("fields.in_transit_value"), type: "money" },
                     ]} />
        </>
      )}
      <h2>{t("warehouses.list")}</h2>
      {list.loading ? <Loading /> : list.error ? <ErrorState error={list.error} onRetry={list.reload} /> : (
        <DataTable<Warehouse> name="warehouses" caption={t("warehouses.list")} rows={list.data ?? []}
                   rowKey={(w) => w.warehouse_id} empty={t("warehouses.empty")}
                   columns={[
                     { key: "warehouse_id", label: t("fields.warehouse") },
                     { key: "name", label: t("fields.name") },
                     { key: "region", label: t("fields.region") },
                     { key: "priority", label: t("fields.priority"), type: "int" },
                   ]} />
      )}
    </section>
  );
}
