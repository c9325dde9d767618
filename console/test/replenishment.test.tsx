/** The replenishment page: supplier, quantity and cost per suggestion, most urgent first, exported as shown. */
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MemoryRouter } from "react-router";
import type { ApiClient, Suggestion } from "../src/api/client";
import { AppContext, type AppState } from "../src/AppContext";
import { initI18n } from "../src/i18n";
import { orderTotals, ReplenishmentPage } from "../src/replenishment/ReplenishmentPage";

beforeAll(() => { initI18n("en"); });
afterEach(() => { cleanup(); vi.restoreAllMocks(); });

const suggestion = (sku: string, over: Partial<Suggestion>): Suggestion => ({
  sku, stockout_date: "2025-06-20", stockout_within_lead_time: false, lead_time_days: 7, suggested_order_qty: 10,
  order_unit_cost: null, supplier: null, supplier_terms: null, unit_cost: null, unit_cost_source: null, order_cost: null, ...over,
});
const ROWS = [
  suggestion("PLANNED", { supplier: "Blue Mill", supplier_terms: { moq: 1, case_pack: 1 }, unit_cost: 2.25, unit_cost_source: "sku", order_cost: 22.5 }),
  suggestion("NOCOST", { stockout_within_lead_time: true, stockout_date: "2025-06-09" }),
  suggestion("URGENT", { stockout_within_lead_time: true, stockout_date: "2025-06-05", suggested_order_qty: 120,
    supplier: "Acme Textiles", supplier_terms: { moq: 50, case_pack: 12 }, order_unit_cost: 4, unit_cost: 4,
    unit_cost_source: "price_break", order_cost: 480 }),
];

describe("orderTotals", () => {
  it("sums the costs it knows and counts the suggestions without one (never as 0)", () => {
    expect(orderTotals(ROWS)).toEqual({ total: 502.5, costed: 2, uncosted: 1 });
    expect(orderTotals([])).toEqual({ total: 0, costed: 0, uncosted: 0 });
  });
});

describe("ReplenishmentPage", () => {
  it("lists the most urgent first with supplier, MOQ, case pack, quantity, unit cost and order cost", async () => {
    const state = { config: { apiBase: "", auth: { mode: "token" } }, session: null, signIn: vi.fn(), signOut: vi.fn(),
      api: { replenishment: vi.fn(async () => ROWS.map((r) => ({ ...r }))) } as unknown as ApiClient } as AppState;
    render(<AppContext.Provider value={state}><MemoryRouter><ReplenishmentPage /></MemoryRouter></AppContext.Provider>);
    await screen.findByText("URGENT");
    const rows = [...document.querySelectorAll("tbody tr")];
    expect(rows.map((r) => r.querySelector("[data-col='sku']")!.textContent)).toEqual(["URGENT", "NOCOST", "PLANNED"]);
    const cell = (row: number, col: string) => rows[row].querySelector(`[data-col='${col}']`)!.textContent;
    expect([cell(0, "supplier"), cell(0, "moq"), cell(0, "case_pack"), cell(0, "suggested_order_qty"), cell(0, "unit_cost"),
      cell(0, "order_cost")]).toEqual(["Acme Textiles", "50", "12", "120", "4", "480"]);
    expect([cell(1, "supplier"), cell(1, "unit_cost"), cell(1, "order_cost")]).toEqual(["—", "—", "—"]);
    expect(rows[0].querySelector("[data-col='unit_cost'] span")!.getAttribute("title")).toBe("supplier price break");
    expect(document.querySelector("[data-order-total]")!.textContent).toBe(
      "Total order cost: 502.5 (2 with a known unit cost). No unit cost for 1: set unit_cost on the SKU (PUT /skus/{sku}) or a supplier price break.");
  });

  it("exports supplier, MOQ, case pack, quantity, unit cost and order cost with the rows", async () => {
    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((blob: Blob) => { blobs.push(blob); return "blob:x"; });
    URL.revokeObjectURL = vi.fn();
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});   // jsdom cannot navigate
    const state = { config: { apiBase: "", auth: { mode: "token" } }, session: null, signIn: vi.fn(), signOut: vi.fn(),
      api: { replenishment: vi.fn(async () => ROWS.map((r) => ({ ...r }))) } as unknown as ApiClient } as AppState;
    render(<AppContext.Provider value={state}><MemoryRouter><ReplenishmentPage /></MemoryRouter></AppContext.Provider>);
    await screen.findByText("URGENT");
    fireEvent.click(screen.getByText("Export CSV"));
    await waitFor(() => expect(blobs).toHaveLength(1));
    const text = await new Promise<string>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.readAsText(blobs[0]);
    });
    const lines = text.replace(/^\uFEFF/, "").trim().split(/\r?\n/);
    const header = lines[0].split(",");
    const urgent = Object.fromEntries(lines[1].split(",").map((v, i) => [header[i], v]));
    expect(urgent).toMatchObject({ SKU: "URGENT", Supplier: "Acme Textiles", MOQ: "50", "Case pack": "12", "Order qty": "120",
      "Unit cost": "4", "Order cost": "480" });
    const none = Object.fromEntries(lines[2].split(",").map((v, i) => [header[i], v]));
    expect(none).toMatchObject({ SKU: "NOCOST", Supplier: "", "Order cost": "" });
  });

  it("makes draft purchase orders of the chosen suggestions for a warehouse and links them; viewers get no such form", async () => {
    const made = { po_id: "PO-20261221-1", supplier_id: "acme", warehouse_id: "wh-b", currency: "CNY", status: "draft",
      lines: [{ line: 1 }, { line: 2 }], total: 480 };
    const posFromSuggestions = vi.fn(async () => ({ purchase_orders: [made] }));
    const api = { replenishment: vi.fn(async () => ROWS.map((r) => ({ ...r }))), posFromSuggestions,
      warehouses: vi.fn(async () => [{ warehouse_id: "wh-a", name: "A" }, { warehouse_id: "wh-b", name: "B" }]),
      suppliers: vi.fn(async () => [{ supplier_id: "acme", name: "Acme Textiles" }]) } as unknown as ApiClient;
    const as = (roles: string[]) => ({ config: { apiBase: "", auth: { mode: "token" } }, signIn: vi.fn(), signOut: vi.fn(), api,
      session: { token: "t", source: "token", expiresAt: Date.now() + 1e6, roles } }) as AppState;
    const view = render(<AppContext.Provider value={as(["viewer"])}><MemoryRouter><ReplenishmentPage /></MemoryRouter></AppContext.Provider>);
    await screen.findByText("URGENT");
    expect(document.querySelector("[data-select-sku]")).toBeNull();
    expect(document.querySelector("[data-form='from-suggestions']")).toBeNull();
    view.unmount();
    render(<AppContext.Provider value={as(["buyer"])}><MemoryRouter><ReplenishmentPage /></MemoryRouter></AppContext.Provider>);
    await screen.findByText("URGENT");
    fireEvent.click(await screen.findByText("Create purchase orders", { selector: "button" }));
    expect(await screen.findByText("Choose at least one suggestion.")).toBeTruthy();
    fireEvent.click(screen.getByLabelText("Choose URGENT for a purchase order"));
    fireEvent.click(screen.getByLabelText("Choose PLANNED for a purchase order"));
    await waitFor(() => expect(screen.getAllByRole("option", { name: "B (wh-b)" })).toHaveLength(1));
    fireEvent.change(screen.getByTestId("po-warehouse"), { target: { value: "wh-b" } });
    fireEvent.change(screen.getByTestId("po-supplier"), { target: { value: "acme" } });
    fireEvent.click(screen.getByText("Create purchase orders", { selector: "button" }));
    const link = await screen.findByRole("link", { name: "PO-20261221-1" });
    expect(link.getAttribute("href")).toBe("/purchase-orders/PO-20261221-1");
    expect(posFromSuggestions).toHaveBeenCalledWith({ warehouse_id: "wh-b", skus: ["URGENT", "PLANNED"], supplier_id: "acme" });
    expect(document.querySelector("[data-made]")!.textContent).toContain("Drafts made: 1.");
  });
});
