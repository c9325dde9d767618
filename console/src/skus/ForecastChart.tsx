/** History (when the forecast answer carries it), forecast, projected stock, safety stock, reorder point and the
 * projected stock-out date on one time axis. */
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { Forecast } from "../api/client";
import { Chart } from "../components/Chart";
import { isoDay } from "../lib/format";

function days(start: string, n: number): string[] {
  const d = new Date(`${start}T00:00:00`);
  return Array.from({ length: n }, (_, i) => isoDay(new Date(d.getFullYear(), d.getMonth(), d.getDate() + i)));
}

/** Projected stock per forecast day: the inventory position less the forecast summed so far. */
export function projectedStock(position: number, forecast: number[]): number[] {
  let left = position;
  return forecast.map((f) => { left -= f; return Math.round(left * 100) / 100; });
}

export function ForecastChart({ forecast }: { forecast: Forecast }) {
  const { t } = useTranslation();
  const option = useMemo(() => {
    const future = forecast.forecast ?? [];
    const history = forecast.history ?? [];
    const histDays = forecast.history_start ? days(forecast.history_start, history.length) : [];
    const futureDays = forecast.forecast_start ? days(forecast.forecast_start, future.length) : [];
    const axis = [...histDays, ...futureDays];
    const pad = (values: number[], before: number) => [...Array(before).fill(null), ...values];
    const projected = forecast.inventory_position === undefined ? [] : projectedStock(forecast.inventory_position, future);
    const lines = [] as { name: string; yAxis?: number; xAxis?: string }[];
    if (forecast.safety_stock !== undefined) lines.push({ name: t("sku.chart.safety"), yAxis: forecast.safety_stock });
    if (forecast.reorder_point !== undefined) lines.push({ name: t("sku.chart.reorder"), yAxis: forecast.reorder_point });
    if (forecast.stockout_date) lines.push({ name: t("sku.chart.stockout"), xAxis: forecast.stockout_date });
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 50, right: 30, top: 40, bottom: 30 },
      xAxis: { type: "category", data: axis },
      yAxis: { type: "value" },
      series: [
        { name: t("sku.chart.history"), type: "bar", data: history, itemStyle: { color: "#5470c6" } },
        { name: t("sku.chart.forecast"), type: "line", data: pad(future, histDays.length), showSymbol: false },
        { name: t("sku.chart.projected"), type: "line", data: pad(projected, histDays.length), lineStyle: { type: "dashed" },
          showSymbol: false, markLine: { symbol: "none", label: { formatter: "{b}", position: "insideEndTop" }, data: lines } },
      ],
    };
  }, [forecast, t]);
  return <Chart option={option} label={t("sku.chart.label", { sku: forecast.sku })} />;
}
