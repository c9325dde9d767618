/** Every key in both languages, and every key the code uses exists (dynamic keys are listed by their families). */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { en } from "../src/i18n/en";
import { zhCN } from "../src/i18n/zh-CN";
import { detectLanguage } from "../src/i18n";
import { STATUSES } from "../src/lib/status";
import { PROTOCOLS } from "../src/lib/validation";
import { PRESETS } from "../src/reports/period";
import { ROLES } from "../src/auth/roles";
import { PO_STATUSES, STATUS_ACTIONS } from "../src/purchasing/poRules";
import { WORKING } from "../src/discovery/discoveryRules";

type Tree = { [k: string]: string | Tree };
function leaves(tree: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "string") out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}
const EN = leaves(en as Tree);
const ZH = leaves(zhCN as Tree);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.(tsx?|ts)$/.test(name) && !path.includes("i18n") ? [path] : [];
  });
}

describe("translations", () => {
  it("have the same keys in English and Chinese", () => {
    expect([...ZH.keys()].filter((k) => !EN.has(k))).toEqual([]);
    expect([...EN.keys()].filter((k) => !ZH.has(k))).toEqual([]);
  });

  it("have no empty text and keep the same {{placeholders}}", () => {
    const holes = (s: string) => (s.match(/\{\{\w+\}\}/g) ?? []).sort().join();
    for (const [key, text] of EN) {
      expect(text.trim(), key).not.toBe("");
      expect(ZH.get(key)!.trim(), key).not.toBe("");
      expect(holes(ZH.get(key)!), key).toBe(holes(text));
    }
  });

  it("cover every literal key the code passes to t() and every validation error", () => {
    const used = new Set<string>();
    for (const file of sources(join(__dirname, "../src"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\bt\("([a-zA-Z0-9_.-]+)"/g)) used.add(m[1]);
      for (const m of text.matchAll(/"(validation\.[a-zA-Z]+)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !EN.has(k) || !ZH.has(k))).toEqual([]);
  });

  it("cover the dynamic key families", () => {
    const families = [
      ...STATUSES.map((s) => `status.${s}`), ...["healthy", "watch", "problem", "none"].map((b) => `band.${b}`),
      ...["missing_route", "unauthorized", "forbidden", "not_found", "invalid", "server", "network"].map((k) => `errors.${k}`),
      ...PROTOCOLS.map((p) => `subscriptions.protocols.${p}`), ...PRESETS.map((p) => `reports.presets.${p}`),
      ...["buffer", "ratio", "minimum", "fixed", "min_display", "max_display", "sellout_threshold"].map((f) => `allocation.${f}`),
      ...["shared", "quota", "fixed"].map((r) => `allocation.rules.${r}`), "languages.en", "languages.zh-CN",
      ...["open", "unacked", "acked", "all"].map((s) => `alerts.status.${s}`),
      ...["unmapped", "oversold"].map((s) => `channels.events.${s}`),
      ...["sku", "available", "days_of_cover", "on_hand", "status"].map((s) => `fields.${s}`),
      ...["id", "protocol", "endpoint", "name"].map((s) => `subscriptions.${s}`),
      ...PO_STATUSES.map((s) => `purchaseOrders.status.${s}`), ...STATUS_ACTIONS.map((s) => `purchaseOrders.to.${s}`),
      ...["draft", "picked", "received", "cancelled"].map((s) => `transfers.status.${s}`),
      ...["pick", "receive", "cancel"].flatMap((a) => [`transfers.actions.${a}`, `transfers.done.${a}`]),
      ...ROLES.map((r) => `roles.${r}`), "transfers.receivedQty", "transfers.lossReason",
      ...["name", "currency", "contact_name", "email", "phone", "lead_time_days", "lead_time_spread_days", "moq", "case_pack",
        "payment_terms"].map((f) => `suppliers.fields.${f}`),
      ...["purchaseOrders", "suppliers", "transfers", "import", "connect"].map((n) => `nav.${n}`),
      ...WORKING.map((s) => `discovery.statuses.${s}`), "discovery.statuses.ready", "discovery.statuses.choosing",
      "discovery.statuses.done", "discovery.statuses.failed", "discovery.pickWarehouse", "discovery.nothingPending",
      ...["one_listing_two_skus", "two_listings_one_sku"].map((k) => `discovery.kinds.${k}`),
      ...["mapping", "sku_code", "sku_code_folded", "barcode", "bundle_name"].map((r) => `discovery.rules.${r}`),
    ];
    expect(families.filter((k) => !EN.has(k) || !ZH.has(k))).toEqual([]);
  });
});

describe("detectLanguage", () => {
  it("keeps the language chosen before, else takes the browser's first known one", () => {
    expect(detectLanguage("en", ["zh-CN"])).toBe("en");
    expect(detectLanguage(null, ["zh-TW", "en"])).toBe("zh-CN");
    expect(detectLanguage(null, ["fr-FR", "en-GB"])).toBe("en");
    expect(detectLanguage("klingon", ["de"])).toBe("en");
  });
});
