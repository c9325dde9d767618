/** Sales history (bars, up to the forecast's as_of), then the forecast (a line, from the day after): units a day on
 * the left axis. Projected stock, safety stock and reorder point are stock levels: the right axis, so a long
 * projection does not flatten the daily sales. The projected stock-out date is a vertical line. */
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { Forecast } from "../api/client";
import { Chart } from "../components/Chart";
import { isoDay } from "../lib/format";

/** `n` ISO days from `start` (local calendar arithmetic: no time zone shifts a day). */
export function days(start: string, n: number): string[] {
  const [y, m, d] = start.split("-").map(Number);
  return Array.from({ length: n }, (_, i) => isoDay(new Date(y, m - 1, d + i)));
}

/** Projected stock per forecast day: the inventory position less the forecast summed so far, never below 0 (what
 * is not there is not sold: the stock-out date marks that day). */
export function projectedStock(position: number, forecast: (number | null)[]): number[] {
  let left = position;
  return forecast.map((f) => { left = Math.max(0, left - (f ?? 0)); return Math.round(left * 100) / 100; });
}

/** A round axis top a little above x (95 → 100, 4.8 → 5.5, 1234 → 1500). */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(x)) / 2;
  return Math.round(Math.ceil((x * 1.05) / step) * step * 1e6) / 1e6;
}

export interface ForecastSeries {
  axis: string[];
  /** units sold per day, null on forecast days */
  history: (number | null)[];
  /** forecast units per day, null on history days */
  forecast: (number | null)[];
  projected: (number | null)[];
}

/** The chart's day axis and its three series, aligned by date: history from history_start, forecast and
 * projected stock from forecast_start (the axis runs from the first of them to the last, with no gap). */
export function forecastSeries(f: Forecast): ForecastSeries {
  const hist = f.history ?? [];
  const future = f.forecast ?? [];
  const histDays = f.history_start && hist.length ? days(f.history_start, hist.length) : [];
  const futureDays = f.forecast_start && future.length ? days(f.forecast_start, future.length) : [];
  const all = [...histDays, ...futureDays].sort();
  if (!all.length) return { axis: [], history: [], forecast: [], projected: [] };
  const first = all[0];
  const span = Math.round((Date.parse(`${all[all.length - 1]}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000) + 1;
  const axis = days(first, span);
  const at = new Map(axis.map((d, i) => [d, i]));
  const place = (dates: string[], values: (number | null)[]) => {
    const out: (number | null)[] = Array(axis.length).fill(null);
    dates.forEach((d, i) => { out[at.get(d)!] = values[i]; });
    return out;
  };
  const projected = f.inventory_position === undefined ? [] : projectedStock(f.inventory_position, future);
  return {
    axis,
    history: place(histDays, hist),
    forecast: place(futureDays, future),
    projected: projected.length ? place(futureDays, projected) : Array(axis.length).fill(null),
  };
}

export function ForecastChart({ forecast }: { forecast: Forecast }) {
  const { t } = useTranslation();
  const option = useMemo(() => {
    const s = forecastSeries(forecast);
    const lines = [] as { name: string; yAxis?: number; xAxis?: string }[];
    if (forecast.safety_stock !== undefined) lines.push({ name: t("sku.chart.safety"), yAxis: forecast.safety_stock });
    if (forecast.reorder_point !== undefined) lines.push({ name: t("sku.chart.reorder"), yAxis: forecast.reorder_point });
    if (forecast.stockout_date) lines.push({ name: t("sku.chart.stockout"), xAxis: forecast.stockout_date });
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 50, right: 60, top: 50, bottom: 30 },
      xAxis: { type: "category", data: s.axis },
      yAxis: [{ type: "value", name: t("sku.chart.perDay") }, { type: "value", name: t("sku.chart.stock"), splitLine: { show: false },
        // the reorder point and safety stock lines stay in view even above every projected value
        max: (v: { max: number }) => niceCeil(Math.max(v.max, forecast.reorder_point ?? 0, forecast.safety_stock ?? 0)) }],
      series: [
        { name: t("sku.chart.history"), type: "bar", data: s.history, itemStyle: { color: "#5470c6" }, barMaxWidth: 8 },
        { name: t("sku.chart.forecast"), type: "line", data: s.forecast, showSymbol: false, itemStyle: { color: "#91cc75" } },
        { name: t("sku.chart.projected"), type: "line", yAxisIndex: 1, data: s.projected, lineStyle: { type: "dashed" },
          showSymbol: false, markLine: { symbol: "none", label: { formatter: "{b}", position: "insideEndTop" }, data: lines } },
      ],
    };
  }, [forecast, t]);
  return <Chart option={option} label={t("sku.chart.label", { sku: forecast.sku })} />;
}
