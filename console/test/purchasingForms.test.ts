/** Supplier, quote, transfer and lane forms: the API's limits checked before sending; and who sees what. */
import { describe, expect, it, vi } from "vitest";
import { ApiClient, type Transfer } from "../src/api/client";
import { can, rolesFromClaims, showsPage, tokenRoles } from "../src/auth/roles";
import { fromSuggestionsBody } from "../src/replenishment/CreatePurchaseOrders";
import { EMPTY_SUPPLIER, validateQuote, validateSupplier } from "../src/suppliers/supplierForms";
import { transferActions, transferFromSuggestion, validateLane, validateTransferReceipt } from "../src/transfers/transferForms";

describe("validateSupplier", () => {
  it("builds the whole record PUT /suppliers/{id} takes", () => {
    const checked = validateSupplier({ ...EMPTY_SUPPLIER, supplier_id: "acme", name: " Acme 纺织 ", currency: "usd",
      email: "sales@acme.example", phone: "+86 755 1234", lead_time_days: "12.5", moq: "48", case_pack: "12" });
    expect(checked).toEqual({ ok: true, id: "acme", body: { name: "Acme 纺织", currency: "USD",
      contact: { name: "", email: "sales@acme.example", phone: "+86 755 1234" }, lead_time_days: 12.5, lead_time_spread_days: 0,
      moq: 48, case_pack: 12, payment_terms: "", active: true } });
  });

  it("names every field the API would refuse", () => {
    const checked = validateSupplier({ ...EMPTY_SUPPLIER, supplier_id: "a b", name: "", currency: "RMB1", email: "x@",
      phone: "call me", lead_time_days: "0", lead_time_spread_days: "-1", moq: "0", case_pack: "1.5" });
    expect(checked).toEqual({ ok: false, errors: { supplier_id: "validation.identifier", name: "validation.required",
      currency: "validation.currency", email: "validation.email", phone: "validation.phoneChars",
      lead_time_days: "validation.leadTime", lead_time_spread_days: "validation.spread", moq: "validation.positiveWhole",
      case_pack: "validation.positiveWhole" } });
  });
});

describe("validateQuote", () => {
  const breaks = (...b: [string, string][]) => b.map(([min_qty, unit_price]) => ({ min_qty, unit_price }));
  it("sends price breaks and only the terms typed", () => {
    expect(validateQuote({ sku: "TEE", breaks: breaks(["1", "4.2"], ["240", "3.6"]), moq: "", case_pack: "12", lead_time_days: "" }))
      .toEqual({ ok: true, sku: "TEE", body: { price_breaks: [{ min_qty: 1, unit_price: 4.2 }, { min_qty: 240, unit_price: 3.6 }], case_pack: 12 } });
  });

  it("refuses breaks out of order, dearer with quantity, or without a price", () => {
    const checked = validateQuote({ sku: "TEE", breaks: breaks(["10", "4"], ["10", "3"], ["20", "5"], ["30", ""]),
      moq: "", case_pack: "", lead_time_days: "" });
    expect(checked).toEqual({ ok: false, errors: { "min_qty-1": "validation.ascending", "unit_price-2": "validation.notDearer",
      "unit_price-3": "validation.price" } });
    expect(validateQuote({ sku: "", breaks: [], moq: "", case_pack: "", lead_time_days: "" }))
      .toEqual({ ok: false, errors: { sku: "validation.identifier", breaks: "validation.oneBreak" } });
  });
});

const TRANSFER: Transfer = {
  transfer_id: "TR-1", from_warehouse: "wh-b", to_warehouse: "wh-a", status: "picked", transit_days: 2, cost_per_unit: 0.5,
  eta: "2026-12-22", created_at: 0, created_by: "staff", history: [],
  lines: [{ line: 1, sku: "TEE", qty: 40, received: 0, lost: 0 }, { line: 2, sku: "MUG", qty: 5, received: 0, lost: 0 }],
};

describe("transfers", () => {
  it("allow pick or cancel of a draft, receive or cancel of a picked one, nothing after", () => {
    expect(transferActions("draft")).toEqual(["pick", "cancel"]);
    expect(transferActions("picked")).toEqual(["receive", "cancel"]);
    expect(transferActions("received")).toEqual([]);
    expect(transferActions("cancelled")).toEqual([]);
  });

  it("make a suggestion into the transfer it suggests", () => {
    expect(transferFromSuggestion({ sku: "TEE", from_warehouse: "wh-b", to_warehouse: "wh-a", qty: 40, transit_days: 2,
      cost_per_unit: 0.5, total_cost: 20, prevents_stockout_on: "2026-12-25", days_of_cover_before: 3, days_of_cover_after: 9,
      donor_days_of_cover_after: 70, lane_configured: true }))
      .toEqual({ from_warehouse: "wh-b", to_warehouse: "wh-a", lines: [{ sku: "TEE", qty: 40 }] });
  });

  it("receive everything with no lines, short lines with their loss reason", () => {
    const all = { 1: { received: "40", reason: "" }, 2: { received: "5", reason: "" } };
    expect(validateTransferReceipt(all, TRANSFER)).toEqual({ ok: true, lines: [] });
    expect(validateTransferReceipt({ ...all, 1: { received: "37", reason: "fell off the truck" } }, TRANSFER))
      .toEqual({ ok: true, lines: [{ line: 1, received: 37, loss_reason: "fell off the truck" }] });
    expect(validateTransferReceipt({ 1: { received: "37", reason: "" }, 2: { received: "6", reason: "" } }, TRANSFER))
      .toEqual({ ok: false, errors: { "reason-1": "validation.lossReason", "received-2": "validation.moreThanSent" } });
  });

  it("check a lane before PUT /transfer-lanes/{from}/{to}", () => {
    expect(validateLane({ from: "wh-b", to: "wh-a", transit_days: "2", cost_per_unit: "" }))
      .toEqual({ ok: true, from: "wh-b", to: "wh-a", body: { transit_days: 2, cost_per_unit: null } });
    expect(validateLane({ from: "wh-a", to: "wh-a", transit_days: "-1", cost_per_unit: "x" })).toEqual({ ok: false, errors: {
      to: "validation.sameWarehouse", transit_days: "validation.transitDays", cost_per_unit: "validation.cost" } });
  });
});

describe("purchase orders from suggestions", () => {
  it("need a warehouse and 1 to 30 SKUs; the supplier override is sent only when chosen", () => {
    expect(fromSuggestionsBody(["A", "B"], "wh-a", "")).toEqual({ ok: true, body: { warehouse_id: "wh-a", skus: ["A", "B"] } });
    expect(fromSuggestionsBody(["A"], "wh-a", "acme")).toEqual({ ok: true, body: { warehouse_id: "wh-a", skus: ["A"], supplier_id: "acme" } });
    expect(fromSuggestionsBody([], "wh-a", "")).toEqual({ ok: false, error: "replenishment.pickSome" });
    expect(fromSuggestionsBody(Array.from({ length: 31 }, (_, i) => `S${i}`), "wh-a", "")).toEqual({ ok: false, error: "replenishment.tooMany" });
    expect(fromSuggestionsBody(["A"], "", "")).toEqual({ ok: false, error: "replenishment.pickWarehouse" });
  });
});

describe("roles", () => {
  it("come from a Cognito token's groups and decide the buttons and the navigation", () => {
    expect(rolesFromClaims({ "cognito:groups": ["buyer", "marketing"] })).toEqual(["buyer"]);
    expect(rolesFromClaims({ sub: "x" })).toBeUndefined();
    expect([can(["buyer"], "buying"), can(["buyer"], "staff"), can(["staff"], "buying"), can(["staff"], "staff")])
      .toEqual([true, false, false, true]);
    expect([can(["viewer"], "buying"), can(["viewer"], "staff"), can(["admin"], "staff"), can(undefined, "buying")])
      .toEqual([false, false, true, true]);
    const nav = (roles: string[]) => ["/purchase-orders", "/suppliers", "/transfers", "/channels"].filter((p) => showsPage(roles, p));
    expect(nav(["buyer"])).toEqual(["/purchase-orders", "/suppliers"]);
    expect(nav(["staff"])).toEqual(["/purchase-orders", "/transfers", "/channels"]);
    expect(nav(["buyer", "staff"])).toEqual(["/purchase-orders", "/suppliers", "/transfers", "/channels"]);
  });

  it("of a machine token are the ones GET /me names", async () => {
    const roles = async (names: string[]) => {
      const fetchImpl = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) =>
        new Response(JSON.stringify({ name: "t", roles: names }), { status: 200 }));
      const found = await tokenRoles(new ApiClient("", () => "tok", () => {}, fetchImpl as unknown as typeof fetch));
      expect(fetchImpl.mock.calls.map(([url, init]) => [String(url), init?.method])).toEqual([["/me", "GET"]]);
      return found;
    };
    expect(await roles(["admin"])).toEqual(["admin"]);
    expect(await roles(["viewer"])).toEqual(["viewer"]);
    expect(await roles(["buyer", "staff"])).toEqual(["staff", "buyer"]);
    expect(await roles(["storefront"])).toEqual([]);
  });
});
