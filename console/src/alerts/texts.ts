/**
 * Alert titles and "what to do" lines in the console's language, worded from the alert's structured fields
 * (kind, sku, scope, facts, suggested_transfer) through i18n keys under `alerts.titles` / `alerts.do`. An action is
 * a sequence of pieces, each a key whose text carries its own punctuation, so optional parts (a cover, an order,
 * a transfer) come and go in either language. A kind this console does not know keeps the API's English text.
 */
import type { TFunction } from "i18next";
import type { Alert, SkuChannels } from "../api/client";
import { fmtNumber } from "../lib/format";

type Facts = Record<string, unknown>;
type Piece = [key: string, params?: Record<string, unknown>];

export const KNOWN_KINDS = ["low_stock", "overstock", "oversell", "unmapped_sku", "order_needs_attention", "sync_anomaly",
  "ledger_mismatch", "push_failures", "stockout_forecast", "demand_burst", "slow_mover", "expiry", "late_po", "order_poll_lag",
  "pulled_refunds_unread"] as const;

const has = (f: Facts, key: string) => f[key] !== undefined && f[key] !== null && f[key] !== "";
const str = (v: unknown, fallback = "?") => (v === undefined || v === null || v === "" ? fallback : String(v));

/** "Low stock: TEE-RED-M (wh-a)": the kind's name, the SKU and the scope's last part (none for "all"). */
export function alertTitle(alert: Alert, t: TFunction): string {
  if (!(KNOWN_KINDS as readonly string[]).includes(alert.kind)) return alert.title ?? alert.kind;
  const scope = alert.scope && alert.scope !== "all" ? alert.scope.split(":").slice(1).join(":") || alert.scope : "";
  return t(scope ? "alerts.titles.scoped" : "alerts.titles.plain",
    { kind: t(`alerts.kinds.${alert.kind}`), sku: alert.sku ?? "", scope });
}

/** The pieces of an alert's action, or null for a kind this console cannot word. */
export function actionPieces(alert: Alert, lang: string, t: TFunction): Piece[] | null {
  const f: Facts = alert.facts ?? {};
  const sku = alert.sku ?? "";
  const n = (v: unknown, digits = 0) => fmtNumber(v, lang, digits);
  const where = str(f.warehouse_name ?? f.warehouse, t("alerts.do.allWarehouses"));
  const cover = (available: unknown) => {
    const daily = Number(f.daily_sales);
    return daily > 0 ? Math.max(Number(available) || 0, 0) / daily : null;
  };
  const scope = alert.scope ?? "";
  switch (alert.kind) {
    case "low_stock": {
      if (scope.startsWith("ch:") && has(f, "pool")) {
        const listing = { sku, listing: str(f.listing_id), channel: str(f.channel), shop: str(f.shop), shown: n(f.shown), pool: n(f.pool) };
        return [["channelShows", listing], f.push_failed
          ? ["channelPushFailed", { error: str(f.error, t("alerts.do.unknownError")) }]
          : ["channelRule", { rule: str(f.rule, "allocation"), computed: n(f.computed_qty), channel: str(f.channel), shop: str(f.shop) }]];
      }
      const out: Piece[] = [["left", { sku, available: n(f.available ?? 0), where }]];
      const days = cover(f.available);
      if (days !== null) out.push(["cover", { days: n(days, 1) }]);
      if (alert.suggested_transfer) out.push(["transfer", { qty: n(alert.suggested_transfer.qty), from: alert.suggested_transfer.from_warehouse }]);
      else if (Number(f.suggested_order_qty) > 0) out.push(["purchase", { qty: n(Math.trunc(Number(f.suggested_order_qty))) }]);
      else if (Number(f.available ?? 0) <= 0) out.push(["replenishOrZero"]);
      return out;
    }
    case "overstock": {
      const out: Piece[] = [["overstock", { sku, available: n(f.available), where }]];
      if (has(f, "max_units")) out.push(["overMax", { max: n(f.max_units) }]);
      const days = cover(f.available);
      if (days !== null) out.push(["coverParen", { days: n(days, 1) }]);
      return [...out, ["pauseOrders"]];
    }
    case "oversell":
      return [["oversold", { sku, channel: str(f.channel, t("alerts.do.aChannel")) }],
        ...(has(f, "order_id") ? [["oversoldOrder", { order: str(f.order_id), wanted: n(f.requested), available: n(f.available ?? 0) }] as Piece] : []),
        ["oversoldDo"]];
    case "unmapped_sku":
      return [["unmapped", { listing: sku, where: str(f.channel) + (has(f, "shop") ? `/${str(f.shop)}` : "") }],
        ...(has(f, "order_id") ? [["inOrder", { order: str(f.order_id) }] as Piece] : []), ["unmappedDo"]];
    case "order_needs_attention":
      return [["needsAttention", { order: str(f.order_id), channel: str(f.channel), shop: str(f.shop),
        reason: str(f.reason, t("alerts.do.cannotApply")), units: n(f.units), skus: n(f.skus) }]];
    case "sync_anomaly":
      return [["anomaly", { sku, channel: str(f.channel), detail: str(f.description, t("alerts.do.differs")) }],
        ...(has(f, "listed") && has(f, "expected") ? [["listedExpected", { listed: n(f.listed), expected: n(f.expected) }] as Piece] : []),
        ["anomalyDo"]];
    case "ledger_mismatch":
      return [["ledger", { sku, where, stored: n(f.stored), replayed: n(f.replayed) }]];
    case "push_failures":
      if (scope.startsWith("ch:")) {
        return [["shopPushes", { depth: n(f.depth), channel: str(f.channel), shop: str(f.shop), minutes: n(f.window_min), listings: n(f.listings) }],
          ...(has(f, "last_error") ? [["lastError", { error: str(f.last_error) }] as Piece] : []), ["shopPushesDo"]];
      }
      return String(f.queue ?? "").includes("push") || !has(f, "queue")
        ? [["queuedPushes", { depth: n(f.depth), queue: str(f.queue, t("alerts.do.theDlq")) }]]
        : [["deadLetters", { depth: n(f.depth), queue: str(f.queue) }]];
    case "stockout_forecast": {
      const out: Piece[] = [["stockout", { sku, days: n(Number(f.days_to_stockout ?? 0), 1), lead: n(f.lead_time_days, 1) }]];
      if (Number(f.suggested_order_qty) > 0) out.push(["orderNow", { qty: n(Math.trunc(Number(f.suggested_order_qty))) }]);
      if (Number(f.daily_sales) > 0 && has(f, "available")) {
        out.push(["stockoutCover", { available: n(f.available, 2), daily: n(f.daily_sales, 1), cover: n(f.days_of_cover, 1) }]);
      }
      return out;
    }
    case "demand_burst":
      if (has(f, "observed") && has(f, "expected")) return [["burst", { sku, observed: n(f.observed), expected: n(f.expected, 1) }]];
      return [["burstTail", { sku }], ["burstDo"]];
    case "slow_mover": {
      const out: Piece[] = [has(f, "days_since_last_sale") ? ["slow", { sku, days: n(f.days_since_last_sale) }] : ["slowNever", { sku }]];
      if (has(f, "demand_probability")) out.push(["sellsOn", { pct: n(100 * Number(f.demand_probability)) }]);
      if (has(f, "on_hand")) out.push(["onHand", { units: n(f.on_hand, 2) }]);
      return [...out, ["slowDo"]];
    }
    case "expiry":
      return [["expiry", { sku, batch: str(f.batch_id), qty: n(f.qty), days: n(f.expires_in_days) }]];
    case "late_po":
      return [["latePo", { po: str(f.po_id), supplier: str(f.supplier_id), qty: n(f.outstanding), sku,
        warehouse: str(f.warehouse), promised: str(f.promised_date), days: n(f.days_late) }]];
    case "order_poll_lag":
      return [["pollLag", { channel: str(f.channel), shop: str(f.shop), minutes: n(Math.floor(Number(f.lag_s ?? 0) / 60)),
        threshold: n(Math.floor(Number(f.threshold_s ?? 0) / 60)) }],
        ...(has(f, "error") ? [["lastError", { error: str(f.error) }] as Piece] : []), ["pollLagDo"]];
    case "pulled_refunds_unread":
      return [["refundsUnread", { channel: str(f.channel), shop: str(f.shop), error: str(f.error, t("alerts.do.unknownError")) }],
        ["refundsUnreadDo"]];
    default:
      return null;
  }
}

/** The "what to do" line in the console's language; the API's own text for a kind this console cannot word. */
export function alertAction(alert: Alert, lang: string, t: TFunction): string {
  const pieces = actionPieces(alert, lang, t);
  if (!pieces) return alert.action ?? "";
  return pieces.map(([key, params]) => t(`alerts.do.${key}`, params ?? {})).join("");
}

/** Why the SKU's units are shared or guarded, worded from `reason` and its numbers (else the API's sentence). */
export function allocationWhy(allocation: SkuChannels["allocation"], lang: string, t: TFunction): string | null {
  const reason = allocation.reason;
  if (reason === "sale_declared" || reason === "guard_off" || reason === "at_risk" || reason === "above_threshold") {
    return t(`sku.allocationWhy.${reason}`, {
      until: allocation.sale_declared_until ?? "?", available: fmtNumber(allocation.available, lang),
      threshold: fmtNumber(allocation.at_risk_at_or_below, lang, 1), k: fmtNumber(allocation.k, lang, 2),
      perChannel: fmtNumber(allocation.min_units_per_channel, lang),
    });
  }
  return allocation.why ?? null;
}
