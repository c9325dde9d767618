/** The import page: a sheet's dry run shown in full (opening units, new SKUs, changed fields, bad rows with
 * their lines), the proposed adjustments the seller ticks sent with the apply, and the progress polled to the end. */
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MemoryRouter } from "react-router";
import { ApiError, type ApiClient, type ImportJob } from "../src/api/client";
import { AppContext, type AppState } from "../src/AppContext";
import { initI18n } from "../src/i18n";
import { ImportPage } from "../src/imports/ImportPage";
import { readBytes } from "../src/imports/sheet";

beforeAll(() => { initI18n("en"); });
afterEach(() => { cleanup(); vi.restoreAllMocks(); });

const READY: ImportJob = {
  import_id: "imp-7", status: "ready", parts: 1, parts_received: 1, rows: 3, error_count: 0, errors: [], refused: [],
  progress: { chunks: 2, chunks_done: 0, percent: 0 },
  summary: { new_skus: 1, updated_skus: 1, unchanged_skus: 0, opening_lines: 2, opening_units: { "wh-a": 30, "wh-b": 5 },
    proposed_adjustments: 2, chunks: 2 },
  preview: { new_skus: ["TEA-9"], updated_skus: [{ sku: "MUG-1", changes: { price: { from: 10, to: 12.5 } } }],
    openings: [{ sku: "TEA-9", warehouse_id: "wh-a", qty: 30 }],
    proposed_adjustments: [
      { key: "MUG-1@wh-a", sku: "MUG-1", warehouse_id: "wh-a", on_hand: 8, counted: 6, delta: -2 },
      { key: "MUG-1@wh-b", sku: "MUG-1", warehouse_id: "wh-b", on_hand: 1, counted: 5, delta: 4 }] },
};

function renderPage(api: Partial<ApiClient>, roles = ["staff"]) {
  const state = { config: { apiBase: "", auth: { mode: "token" } }, signIn: vi.fn(), signOut: vi.fn(),
    session: { token: "x", source: "token", expiresAt: Date.now() + 1e6, roles }, api: api as ApiClient } as unknown as AppState;
  return render(<AppContext.Provider value={state}><MemoryRouter><ImportPage pollMs={1} /></MemoryRouter></AppContext.Provider>);
}

const choose = (text: string, name = "catalogue.csv") => {
  const file = new File([text], name, { type: "text/csv" });
  fireEvent.change(screen.getByLabelText("Catalogue sheet (CSV or XLSX)"), { target: { files: [file] } });
  fireEvent.click(screen.getByText("Upload for a dry run"));
};
const cells = (table: string, col: string) =>
  [...document.querySelectorAll(`[data-table='${table}'] td[data-col='${col}']`)].map((td) => td.textContent);

describe("ImportPage", () => {
  it("shows the dry run, sends the ticked adjustments with the apply and polls the progress to applied", async () => {
    const uploadCatalog = vi.fn(async () => structuredClone(READY));
    const applying = { ...structuredClone(READY), status: "applying" as const };
    const applyImport = vi.fn(async () => applying);
    const importJob = vi.fn()
      .mockResolvedValueOnce({ ...applying, progress: { chunks: 2, chunks_done: 1, percent: 50 } })
      .mockResolvedValueOnce({ ...applying, status: "applied", progress: { chunks: 2, chunks_done: 2, percent: 100 },
        refused: [{ ...READY.preview!.proposed_adjustments[0], reason: "on hand would drop below what is reserved" }] });
    renderPage({ uploadCatalog, applyImport, importJob });
    choose("sku,name,wh-a\nTEA-9,Tea,30\n");
    await screen.findByText("Dry run imp-7");
    expect(uploadCatalog).toHaveBeenCalledWith("sku,name,wh-a\nTEA-9,Tea,30\n", { parts: 1, part: 1, first_line: 2, import_id: undefined });
    expect(document.querySelector("[data-import-summary]")!.textContent).toBe(
      "3 rows: 1 new SKUs, 1 updated, 0 unchanged; 2 proposed adjustment(s).");
    expect(cells("import-opening", "units")).toEqual(["30", "5"]);
    expect(cells("import-new", "sku")).toEqual(["TEA-9"]);
    expect([cells("import-updated", "field"), cells("import-updated", "from"), cells("import-updated", "to")]).toEqual([["price"], ["10"], ["12.5"]]);
    expect(cells("import-adjustments", "delta")).toEqual(["-2", "4"]);
    fireEvent.click(screen.getByLabelText("Accept adjustment MUG-1@wh-b"));
    fireEvent.click(screen.getByText("Apply the import"));
    await screen.findByText("Applied.");
    expect(applyImport).toHaveBeenCalledWith("imp-7", ["MUG-1@wh-b"]);
    expect(importJob).toHaveBeenCalledTimes(2);
    expect((document.querySelector("progress") as HTMLProgressElement).value).toBe(100);
    expect(cells("import-refused", "reason")).toEqual(["on hand would drop below what is reserved"]);
  });

  it("accepts all the proposed adjustments at once", async () => {
    const applyImport = vi.fn(async () => ({ ...structuredClone(READY), status: "applied" as const }));
    renderPage({ uploadCatalog: vi.fn(async () => structuredClone(READY)), applyImport });
    choose("sku\nMUG-1\n");
    await screen.findByText("Dry run imp-7");
    fireEvent.click(screen.getByLabelText("Accept all 2 proposed adjustments"));
    fireEvent.click(screen.getByText("Apply the import"));
    await waitFor(() => expect(applyImport).toHaveBeenCalledWith("imp-7", "all"));
  });

  it("lists every bad row with its line and reason and offers no apply", async () => {
    const invalid: ImportJob = { ...structuredClone(READY), status: "invalid", error_count: 3, rows: 40,
      errors: [{ line: 4, message: "qty: a whole number" }, { line: 9, message: "sku TEA-2: a new SKU needs a name" }] };
    renderPage({ uploadCatalog: vi.fn(async () => invalid) });
    choose("sku\n");
    await screen.findByText("Bad rows");
    expect(cells("import-errors", "line")).toEqual(["4", "9"]);
    expect(cells("import-errors", "message")).toEqual(["qty: a whole number", "sku TEA-2: a new SKU needs a name"]);
    expect(screen.getByText("… and 1 more bad rows not listed.")).toBeTruthy();
    expect(document.querySelector("[data-import-invalid]")!.textContent).toContain("3 bad row(s) in 40 rows");
    expect(screen.queryByText("Apply the import")).toBeNull();
  });

  it("shows the API's refusal in its own words and asks for a file before sending", async () => {
    const uploadCatalog = vi.fn(async () => { throw new ApiError("invalid", 400, "POST /imports/catalog", "body is neither UTF-8 nor GB18030 text"); });
    renderPage({ uploadCatalog });
    fireEvent.click(screen.getByText("Upload for a dry run"));
    await screen.findByText(/Choose a CSV or XLSX file first/);
    expect(uploadCatalog).not.toHaveBeenCalled();
    choose("x");
    await screen.findByText("StockLink refused this: body is neither UTF-8 nor GB18030 text");
  });

  it("downloads the template in the language asked, with a BOM for Excel", async () => {
    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((blob: Blob) => { blobs.push(blob); return "blob:x"; });
    URL.revokeObjectURL = vi.fn();
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    const importTemplate = vi.fn(async () => "商品编码,商品名称\n");
    renderPage({ importTemplate });
    fireEvent.click(screen.getByText("Download the template (Chinese headers)"));
    await waitFor(() => expect(blobs).toHaveLength(1));
    expect(importTemplate).toHaveBeenCalledWith("zh");
    expect(new Uint8Array(await readBytes(blobs[0])).slice(0, 3)).toEqual(new Uint8Array([0xef, 0xbb, 0xbf]));
  });

  it("lets a viewer read but not upload", () => {
    renderPage({}, ["viewer"]);
    expect(screen.getByText("Only staff may import a catalogue.")).toBeTruthy();
    expect(screen.queryByText("Upload for a dry run")).toBeNull();
  });
});
