/** Alert titles and actions, and the allocation "why", worded in the console's language from the API's structured
 * fields; the API's English text only for what the console does not know. */
import i18n, { type TFunction } from "i18next";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "../src/api/client";
import { actionPieces, alertAction, alertTitle, allocationWhy, KNOWN_KINDS } from "../src/alerts/texts";
import { en } from "../src/i18n/en";
import { zhCN } from "../src/i18n/zh-CN";
import { changeLanguage, initI18n } from "../src/i18n";

beforeAll(() => { initI18n("en"); });
afterEach(() => changeLanguage("en"));

const t = ((...args: Parameters<typeof i18n.t>) => i18n.t(...args)) as unknown as TFunction;
const alert = (kind: string, facts: Record<string, unknown>, over: Partial<Alert> = {}): Alert => ({
  id: `${kind}#TEE#all`, kind, level: "red", status: "open", sku: "TEE", scope: "all", facts,
  title: `[RED] API title of ${kind}`, action: `API action of ${kind}`, ...over,
});

// Every family of facts each kind words (its optional parts present), so every key is reached.
const CASES: Alert[] = [
  alert("low_stock", { available: 3, warehouse: "wh-a", daily_sales: 2 }, { suggested_transfer: { from_warehouse: "wh-b", qty: 17 } }),
  alert("low_stock", { available: 4, daily_sales: 2, suggested_order_qty: 40 }),
  alert("low_stock", { available: 0 }),
  alert("low_stock", { pool: 9, shown: 0, listing_id: "L1", channel: "shopee", shop: "s1", push_failed: true, error: "401" }, { scope: "ch:shopee#s1#L1" }),
  alert("low_stock", { pool: 9, shown: 2, listing_id: "L1", channel: "shopee", shop: "s1", rule: "quota", computed_qty: 2 }, { scope: "ch:shopee#s1#L1" }),
  alert("overstock", { available: 900, warehouse: "wh-a", max_units: 500, daily_sales: 3 }),
  alert("oversell", { channel: "tiktok", order_id: "O-9", requested: 3, available: 1 }),
  alert("unmapped_sku", { channel: "lazada", shop: "s2", order_id: "O-1" }),
  alert("order_needs_attention", { order_id: "O-2", channel: "shopify", shop: "s3", reason: "too many lines", units: 40, skus: 30 }),
  alert("sync_anomaly", { channel: "shopee", listed: 7, expected: 5 }),
  alert("ledger_mismatch", { warehouse: "wh-a", stored: 10, replayed: 12 }),
  alert("push_failures", { depth: 4, channel: "shopee", shop: "s1", window_min: 15, listings: 3, last_error: "429" }, { scope: "ch:shopee#s1" }),
  alert("push_failures", { depth: 6, queue: "stocklink-push-dlq" }, { scope: "dlq:push" }),
  alert("push_failures", { depth: 2, queue: "stocklink-alerts-dlq" }, { scope: "dlq:alerts" }),
  alert("stockout_forecast", { days_to_stockout: 3.5, lead_time_days: 14, suggested_order_qty: 120, daily_sales: 8, available: 28, days_of_cover: 3.5 }),
  alert("demand_burst", { observed: 300, expected: 2 }),
  alert("demand_burst", { tail_probability: 1e-9 }),
  alert("slow_mover", { days_since_last_sale: 45, demand_probability: 0.05, on_hand: 80 }),
  alert("slow_mover", {}),
  alert("expiry", { batch_id: "B-7", qty: 12, expires_in_days: 5 }),
  alert("late_po", { po_id: "PO-7", supplier_id: "acme", outstanding: 50, warehouse: "wh-a", promised_date: "2025-05-22", days_late: 11 }),
  alert("order_poll_lag", { channel: "pinduoduo", shop: "s9", lag_s: 1860, threshold_s: 300, error: "70031" }, { scope: "poll:pinduoduo#s9" }),
  alert("pulled_refunds_unread", { channel: "pinduoduo", shop: "s9", error: "HTTP 200 20031 no permission" }, { sku: "*", scope: "shop:pinduoduo:s9" }),
];

function lookup(tree: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((node, k) => (node && typeof node === "object" ? (node as Record<string, unknown>)[k] : undefined), tree);
}

describe("alert texts", () => {
  it("word every kind the API raises, with every key in both languages", () => {
    expect(new Set(CASES.map((a) => a.kind))).toEqual(new Set(KNOWN_KINDS));
    for (const a of CASES) {
      const keys = actionPieces(a, "en", t)!.map(([key]) => `alerts.do.${key}`);
      for (const key of keys) {
        expect(typeof lookup(en, key), key).toBe("string");
        expect(typeof lookup(zhCN, key), key).toBe("string");
      }
      expect(alertAction(a, "en", t)).not.toContain("API action");
    }
  });

  it("say what the API says in English, numbers and all", () => {
    expect(alertAction(CASES[0], "en", t)).toBe("SKU TEE: 3 left in wh-a, ~1.5 days of sales, suggested transfer of 17 from wh-b");
    expect(alertAction(CASES[2], "en", t)).toBe("SKU TEE: 0 left in all warehouses, replenish or set the listing to 0 everywhere");
    expect(alertAction(CASES[6], "en", t)).toBe(
      "SKU TEE oversold on tiktok (order O-9: wanted 3, 1 available). 0 was pushed to every channel; fill the backorder or cancel and refund it");
    expect(alertAction(CASES[14], "en", t)).toBe(
      "SKU TEE: projected to run out in ~3.5 days, lead time 14 days; order 120 now (28 available, ~8/day forecast: 3.5 days of cover)");
    expect(alertAction(CASES[20], "en", t)).toBe("Purchase order PO-7 from acme: 50 of SKU TEE for wh-a promised by "
      + "2025-05-22, 11 days late; chase the supplier or move stock from another warehouse");
    expect(alertTitle(CASES[0], t)).toBe("Low stock: TEE");
    expect(alertTitle(CASES[3], t)).toBe("Low stock: TEE (shopee#s1#L1)");
    expect(alertAction(CASES[22], "en", t)).toBe("Refunds of pinduoduo/s9 are not read (the platform refuses them: "
      + "HTTP 200 20031 no permission); its orders still sync, but a refund before shipment does not release its units "
      + "(they stay committed). Grant the app the after-sales (售后) permission; refunds settled meanwhile are not read "
      + "later: correct their orders' reservations by hand");
  });

  it("switch to Chinese with the same numbers", async () => {
    await changeLanguage("zh-CN");
    expect(alertAction(CASES[0], "zh-CN", t)).toBe("SKU TEE：wh-a 剩余 3，约可售 1.5 天，建议从 wh-b 调拨 17");
    expect(alertAction(CASES[1], "zh-CN", t)).toBe("SKU TEE：所有仓库 剩余 4，约可售 2 天，建议采购 40");
    expect(alertTitle(CASES[5], t)).toBe("超储：TEE");
    expect(alertTitle(CASES[22], t)).toBe("退款未读取：*（pinduoduo:s9）");
    for (const a of CASES) expect(alertAction(a, "zh-CN", t)).not.toMatch(/\b(left in|oversold|projected|stock pushes)\b/);
  });

  it("keep the API's text for a kind this console does not know", () => {
    const unknown = alert("carrier_delay", { days: 3 });
    expect(alertAction(unknown, "en", t)).toBe("API action of carrier_delay");
    expect(alertTitle(unknown, t)).toBe("[RED] API title of carrier_delay");
  });
});

describe("allocationWhy", () => {
  const base = { mode: "guarded", why: "the API's sentence", available: 4, at_risk_at_or_below: 6.25, k: 2, min_units_per_channel: 1 };

  it("words each reason from its numbers, in either language", async () => {
    expect(allocationWhy({ ...base, reason: "at_risk" }, "en", t)).toBe(
      "4 units available, at or below 6.3 (the units the channels are expected to sell before a push lands, ×2, or 1 per channel): each unit is offered on one channel only, split by demand");
    expect(allocationWhy({ ...base, reason: "sale_declared", sale_declared_until: "2025-06-18T00:00:00Z" }, "en", t))
      .toContain("until 2025-06-18T00:00:00Z");
    await changeLanguage("zh-CN");
    expect(allocationWhy({ ...base, mode: "shared", reason: "above_threshold", available: 40 }, "zh-CN", t)).toBe(
      "可用 40 件，高于 6.3：各渠道都显示共享库存池");
    expect(allocationWhy({ ...base, reason: "guard_off" }, "zh-CN", t)).toBe("尾货保护已关闭：各渠道都显示共享库存池");
  });

  it("falls back to the API's sentence for a reason it does not know, or none", () => {
    expect(allocationWhy({ ...base, reason: "new_rule" }, "en", t)).toBe("the API's sentence");
    expect(allocationWhy({ mode: "shared" }, "en", t)).toBeNull();
  });
});
