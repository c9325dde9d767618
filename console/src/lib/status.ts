/** How a stock status and a report's health band look: a label key, a tone, and the order of the board's counts. */
import type { Band, StockStatus } from "../api/client";

export const STATUSES: StockStatus[] = ["normal", "low", "zero", "over"];
export type Tone = "ok" | "warn" | "bad" | "info" | "muted";

const STATUS_TONE: Record<StockStatus, Tone> = { normal: "ok", low: "warn", zero: "bad", over: "info" };
const BAND_TONE: Record<Band, Tone> = { healthy: "ok", watch: "warn", problem: "bad" };
const LEVEL_TONE: Record<string, Tone> = { red: "bad", orange: "warn", yellow: "warn", info: "info" };

export function statusBadge(status: string | null | undefined): { labelKey: string; tone: Tone } {
  if (status && Object.hasOwn(STATUS_TONE, status)) return { labelKey: `status.${status}`, tone: STATUS_TONE[status as StockStatus] };
  return { labelKey: "status.unknown", tone: "muted" };
}

export function bandBadge(band: string | null | undefined): { labelKey: string; tone: Tone } {
  if (band && Object.hasOwn(BAND_TONE, band)) return { labelKey: `band.${band}`, tone: BAND_TONE[band as Band] };
  return { labelKey: "band.none", tone: "muted" };
}

export function levelTone(level: string): Tone {
  return Object.hasOwn(LEVEL_TONE, level) ? LEVEL_TONE[level] : "muted";
}

/** Alert levels, most severe first (unknown levels last). */
const LEVEL_ORDER = ["red", "orange", "yellow", "info"];
export function severityRank(level: string): number {
  const i = LEVEL_ORDER.indexOf(level);
  return i < 0 ? LEVEL_ORDER.length : i;
}

/** Replenishment urgency: stock-out inside lead time first, then the soonest stock-out, then the largest order. */
export function urgencyOrder<T extends { stockout_within_lead_time: boolean; stockout_date: string | null;
  suggested_order_qty: number }>(a: T, b: T): number {
  if (a.stockout_within_lead_time !== b.stockout_within_lead_time) return a.stockout_within_lead_time ? -1 : 1;
  const da = a.stockout_date ?? "9999-12-31";
  const db = b.stockout_date ?? "9999-12-31";
  if (da !== db) return da < db ? -1 : 1;
  return b.suggested_order_qty - a.suggested_order_qty;
}
