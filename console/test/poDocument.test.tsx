/** A purchase order to send to the supplier: the XLSX rows and file, and the print view, in either language;
 * the detail page shows the API's own words when a receipt is refused. */
import ExcelJS from "exceljs";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryRouter, Route, Routes } from "react-router";
import i18n from "i18next";
import { ApiError, type ApiClient, type SupplierRecord } from "../src/api/client";
import { AppContext, type AppState } from "../src/AppContext";
import { initI18n } from "../src/i18n";
import { PoDetailPage } from "../src/purchasing/PoDetail";
import { poDocument, poSheetRows, poXlsx } from "../src/purchasing/poDocument";
import { PoPrintPage } from "../src/purchasing/PoPrint";
import { PO } from "./poFixture";

const SUPPLIER: SupplierRecord = {
  supplier_id: "acme", name: "Acme 纺织", currency: "CNY", contact: { name: "Li Wei", email: "sales@acme.example", phone: "" },
  lead_time_days: 12, lead_time_spread_days: 2, moq: 48, case_pack: 12, payment_terms: "30% deposit", active: true,
};
const WAREHOUSE = { warehouse_id: "wh-a", name: "Shenzhen A" };

beforeAll(() => { initI18n("en"); });
beforeEach(async () => { await i18n.changeLanguage("en"); });
afterEach(() => { cleanup(); vi.restoreAllMocks(); });

describe("poDocument / poSheetRows", () => {
  it("lays out the header facts, the lines with their amounts and the total, in English", () => {
    const rows = poSheetRows(poDocument(PO, SUPPLIER, WAREHOUSE, i18n.t));
    expect(rows[0]).toEqual(["Purchase order PO-7"]);
    expect(rows.slice(1, 10)).toEqual([
      ["PO", "PO-7"], ["Date", "2025-12-06"], ["Status", "Shipped"], ["Supplier", "Acme 纺织 (acme)"],
      ["Contact", "Li Wei · sales@acme.example"], ["Ship to", "Shenzhen A (wh-a)"], ["Currency", "CNY"],
      ["Payment terms", "30% deposit"], ["ETA", "2026-12-20"],
    ]);
    const header = rows.findIndex((r) => r[0] === "Line");
    expect(rows[header]).toEqual(["Line", "SKU", "Ordered", "Unit price", "Amount", "Promised"]);
    expect(rows.slice(header + 1)).toEqual([
      [1, "TEE-RED-M", 120, 6.5, 780, "2026-12-20"],
      [2, "MUG-1", 60, 4.2, 252, null],
      ["Total", null, null, null, 1032, null],
    ]);
  });

  it("is worded in Chinese when the console is", async () => {
    await i18n.changeLanguage("zh-CN");
    const rows = poSheetRows(poDocument({ ...PO, note: "请按箱规装箱" }, SUPPLIER, null, i18n.t));
    expect(rows[0]).toEqual(["采购订单 PO-7"]);
    expect(rows).toContainEqual(["收货仓库", "wh-a"]);
    expect(rows).toContainEqual(["备注", "请按箱规装箱"]);
    expect(rows).toContainEqual(["行号", "SKU", "订购", "单价", "金额", "承诺交期"]);
    expect(rows[rows.length - 1]).toEqual(["合计", null, null, null, 1032, null]);
  });

  it("writes those rows to an XLSX file, numbers as numbers and formula-like text neutralised", async () => {
    const doc = poDocument(PO, { ...SUPPLIER, name: "=cmd()" }, WAREHOUSE, i18n.t);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await poXlsx(doc, "PO-7"));
    const sheet = book.worksheets[0];
    const values: unknown[][] = [];
    sheet.eachRow({ includeEmpty: true }, (row) => { values.push((row.values as unknown[]).slice(1)); });
    expect(sheet.name).toBe("PO-7");
    expect(values[4]).toEqual(["Supplier", "'=cmd() (acme)"]);
    const header = values.findIndex((r) => r[0] === "Line");
    expect(values[header + 1]).toEqual([1, "TEE-RED-M", 120, 6.5, 780, "2026-12-20"]);
    expect(values[values.length - 1]).toEqual(["Total", undefined, undefined, undefined, 1032]);
  });
});

function withApp(path: string, api: Partial<ApiClient>, roles?: string[]) {
  const state = { config: { apiBase: "", auth: { mode: "token" } }, api: api as ApiClient,
    session: { token: "t", source: "token", expiresAt: Date.now() + 1e6, roles }, signIn: vi.fn(), signOut: vi.fn() } as AppState;
  return render(
    <AppContext.Provider value={state}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/purchase-orders/:id" element={<PoDetailPage />} />
          <Route path="/purchase-orders/:id/print" element={<PoPrintPage />} />
        </Routes>
      </MemoryRouter>
    </AppContext.Provider>);
}

const readApi = () => ({
  purchaseOrder: vi.fn(async () => structuredClone(PO)), supplier: vi.fn(async () => SUPPLIER),
  warehouses: vi.fn(async () => [WAREHOUSE]),
});

describe("the print view", () => {
  it("shows the PO to send, in the console's language, and prints through the browser", async () => {
    await i18n.changeLanguage("zh-CN");
    const print = vi.spyOn(window, "print").mockImplementation(() => {});
    withApp("/purchase-orders/PO-7/print", readApi());
    expect(await screen.findByRole("heading", { name: "采购订单 PO-7" })).toBeTruthy();
    const article = document.querySelector("[data-print='PO-7']")!;
    expect(article.textContent).toContain("Acme 纺织 (acme)");
    expect(article.textContent).toContain("Shenzhen A (wh-a)");
    const cells = [...article.querySelectorAll("tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent));
    expect(cells).toEqual([["1", "TEE-RED-M", "120", "6.5", "780", "2026-12-20"], ["2", "MUG-1", "60", "4.2", "252", "—"]]);
    expect(article.querySelector("[data-print-total]")!.textContent).toBe("1,032");
    fireEvent.click(screen.getByText("打印或另存为 PDF"));
    expect(print).toHaveBeenCalledOnce();
  });
});

describe("the detail page", () => {
  it("offers staff the receipt only and shows the API's refusal in its own words", async () => {
    const receivePo = vi.fn(async () => {
      throw new ApiError("invalid", 400, "POST /purchase-orders/{id}/receipts",
        "line 1 (TEE-RED-M): receiving 130 of 120 on the way; send accept_over_receipt to book more", "validation_failed");
    });
    withApp("/purchase-orders/PO-7", { ...readApi(), receivePo }, ["staff"]);
    await screen.findByText("Book receipt");
    expect(document.querySelector("[data-po-action]")).toBeNull();             // no buying actions for staff
    expect(document.querySelector("[data-form='ship']")).toBeNull();
    fireEvent.change(screen.getByLabelText("Received (good)"), { target: { value: "130" } });
    fireEvent.click(screen.getByText("Book receipt"));
    expect(await screen.findByText(/receiving 130 of 120 on the way/)).toBeTruthy();
    expect(receivePo).toHaveBeenCalledWith("PO-7", expect.objectContaining({ lines: [{ line: 1, received: 130 }] }));
    expect((receivePo.mock.calls[0] as unknown[])[1]).not.toHaveProperty("accept_over_receipt");
  });

  it("updates the lines from the API's answer after a partial receipt with rejects", async () => {
    const after = structuredClone(PO);
    after.lines[0] = { ...after.lines[0], received: 50, rejected: 2, on_the_way: 68 };
    const receivePo = vi.fn(async () => after);
    withApp("/purchase-orders/PO-7", { ...readApi(), receivePo }, ["admin"]);
    await screen.findByText("Book receipt");
    fireEvent.change(screen.getByLabelText("Received (good)"), { target: { value: "50" } });
    fireEvent.change(screen.getByLabelText("Rejected"), { target: { value: "2" } });
    fireEvent.click(screen.getByText("Book receipt"));
    expect(await screen.findByText("Say why the units were rejected.")).toBeTruthy();
    expect(receivePo).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText("Reason for rejects"), { target: { value: "crushed" } });
    fireEvent.click(screen.getByText("Book receipt"));
    await screen.findByText(/Receipt GRN-PO-7-.* booked\./);
    const cell = (col: string) => document.querySelector(`[data-table='po-PO-7-lines'] tbody tr [data-col='${col}']`)!.textContent;
    expect([cell("received"), cell("rejected"), cell("on_the_way")]).toEqual(["50", "2", "68"]);
    expect((screen.getByLabelText("Received (good)") as HTMLInputElement).value).toBe("68");   // a fresh form for the rest
  });
});
