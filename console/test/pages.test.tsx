/** Pages over a fake API: the board's counts and cursor pages, a missing route in plain words, the "why" sum. */
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MemoryRouter } from "react-router";
import { ApiError, type ApiClient, type Board, type ChannelListing } from "../src/api/client";
import { AppContext, type AppState } from "../src/AppContext";
import { BoardPage } from "../src/board/BoardPage";
import { WhyBreakdown } from "../src/skus/WhyBreakdown";
import { initI18n } from "../src/i18n";

beforeAll(() => { initI18n("en"); });
afterEach(cleanup);

function withApp(ui: React.ReactNode, api: Partial<ApiClient>) {
  const state = { config: { apiBase: "", auth: { mode: "token" } }, api: api as ApiClient, session: null,
    signIn: vi.fn(), signOut: vi.fn() } as AppState;
  return render(<AppContext.Provider value={state}><MemoryRouter>{ui}</MemoryRouter></AppContext.Provider>);
}

const row = (sku: string, presold = 0) => ({ sku, name: `Item ${sku}`, on_hand: 10, reserved: 1, available: 9,
  in_transit: 6, presold, days_of_cover: 3.5, status: "low" as const, abc: "A" as const, safety_stock: 12 });

describe("BoardPage", () => {
  it("shows the counts per status and walks the pages by cursor, forwards and back", async () => {
    const pages: Record<string, Board> = {
      first: { rows: [row("A-1"), row("A-2")], counts: { normal: 7, low: 2, zero: 1, over: 0 }, total: 10, next: "c2" },
      c2: { rows: [row("B-1")], counts: { normal: 7, low: 2, zero: 1, over: 0 }, total: 10, next: null },
    };
    const board = vi.fn(async (q: Record<string, unknown>) => pages[(q.cursor as string) ?? "first"]);
    withApp(<BoardPage />, { board, warehouses: vi.fn(async () => []) });
    expect(await screen.findByText("A-1")).toBeTruthy();
    expect(document.querySelector("[data-count='normal']")!.textContent).toBe("7");
    expect(document.querySelector("[data-count='zero']")!.textContent).toBe("1");
    fireEvent.click(screen.getByText("Next page"));
    expect(await screen.findByText("B-1")).toBeTruthy();
    expect(board).toHaveBeenLastCalledWith(expect.objectContaining({ cursor: "c2", limit: 50 }));
    expect((screen.getByText("Next page") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByText("Previous page"));
    expect(await screen.findByText("A-1")).toBeTruthy();
  });

  it("shows each row's presold units in their own column, sortable", async () => {
    const board = vi.fn(async () => ({ rows: [row("P-1", 4)], counts: { normal: 0, low: 1, zero: 0, over: 0 }, total: 1,
      next: null }));
    withApp(<BoardPage />, { board, warehouses: vi.fn(async () => []) });
    expect(await screen.findByText("P-1")).toBeTruthy();
    const headers = [...document.querySelectorAll("th")].map((th) => th.textContent);
    const cells = [...screen.getByText("P-1").closest("tr")!.querySelectorAll("td")].map((td) => td.textContent);
    expect(cells[headers.indexOf("Presold")]).toBe("4");
    expect(screen.getByRole("option", { name: "Presold" })).toBeTruthy();
  });

  it("filters by status from the counts, starting again at the first page", async () => {
    const board = vi.fn(async () => ({ rows: [], counts: { normal: 0, low: 0, zero: 0, over: 0 }, total: 0, next: null }));
    withApp(<BoardPage />, { board, warehouses: vi.fn(async () => []) });
    expect(await screen.findByText("No SKUs yet — import a stock sheet or receive goods (POST /stock/receipts).")).toBeTruthy();
    fireEvent.click(document.querySelector("[data-status='low'] button")!);
    await waitFor(() => expect(board).toHaveBeenLastCalledWith(expect.objectContaining({ status: "low", cursor: undefined })));
    expect(await screen.findByText("No SKU matches these filters.")).toBeTruthy();
  });

  it("says plainly when this StockLink has no board route, without breaking the page", async () => {
    const board = vi.fn(async () => { throw new ApiError("missing_route", 404, "GET /stock/board", "No route for GET /stock/board"); });
    withApp(<BoardPage />, { board, warehouses: vi.fn(async () => []) });
    expect((await screen.findByRole("alert")).textContent).toContain("does not have GET /stock/board yet");
    expect(screen.getByRole("heading", { name: "Stock board" })).toBeTruthy();
  });
});

describe("WhyBreakdown", () => {
  const listing: ChannelListing = { platform: "shopee", shop: "my shop", listing_id: "1",
    explain: { pool: 120, reserved: 8, buffer: 2, rule: "quota", rule_adjustment: -55, guard: null, shown: 55 } };

  it("writes the sum that gives the shown number and links each setting to its shop", () => {
    withApp(<WhyBreakdown listing={listing} />, {});
    const why = document.querySelector("[data-why]")!;
    expect(why.textContent).toBe("120 − 8 − 2 − 55 = 55");
    const links = [...why.querySelectorAll("a")].map((a) => a.getAttribute("href"));
    expect(links).toContain("/channels?platform=shopee&shop=my%20shop");
    expect(links).toContain("#ledger");
  });

  it("says when the API gives no breakdown", () => {
    withApp(<WhyBreakdown listing={{ ...listing, explain: undefined }} />, {});
    expect(screen.getByText("no breakdown from this StockLink yet")).toBeTruthy();
  });
});
