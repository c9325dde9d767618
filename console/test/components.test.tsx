import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MemoryRouter } from "react-router";
import { ApiClient, ApiError, type Allocation } from "../src/api/client";
import { AppContext, type AppState } from "../src/AppContext";
import { AllocationForm } from "../src/channels/AllocationForm";
import { DataTable } from "../src/components/DataTable";
import { ErrorState } from "../src/components/States";
import { changeLanguage, initI18n } from "../src/i18n";

beforeAll(() => { initI18n("en"); });
afterEach(() => { cleanup(); void changeLanguage("en"); });

function withApp(ui: React.ReactNode, api: Partial<ApiClient>) {
  const state = { config: { apiBase: "", auth: { mode: "token" } }, api: api as ApiClient, session: null,
    signIn: vi.fn(), signOut: vi.fn() } as AppState;
  return render(<AppContext.Provider value={state}><MemoryRouter>{ui}</MemoryRouter></AppContext.Provider>);
}

describe("ErrorState", () => {
  it("says in plain words that a route is not there yet, in the chosen language", async () => {
    render(<ErrorState error={new ApiError("missing_route", 404, "GET /stock/board", "No route for GET /stock/board")} />);
    expect(screen.getByRole("alert").textContent).toContain("does not have GET /stock/board yet");
    await changeLanguage("zh-CN");
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("还没有 GET /stock/board"));
  });
});

describe("DataTable", () => {
  it("shows the empty message and disables export when there are no rows", () => {
    render(<DataTable name="t" caption="Things" columns={[{ key: "a", label: "A" }]} rows={[]} rowKey={() => "x"} empty="no SKUs yet — import a stock sheet" />);
    expect(screen.getByText("no SKUs yet — import a stock sheet")).toBeTruthy();
    expect((screen.getByText("Export CSV") as HTMLButtonElement).disabled).toBe(true);
  });

  it("formats numbers for the screen", () => {
    render(<DataTable name="t" caption="Things" columns={[{ key: "sku", label: "SKU" }, { key: "n", label: "N", type: "int" }]}
                      rows={[{ sku: "A", n: 12345 }]} rowKey={(r) => r.sku} empty="none" />);
    expect(screen.getByText("12,345")).toBeTruthy();
  });
});

describe("AllocationForm", () => {
  const saved: Allocation = { platform: "tiktok", shop: "demo", rule: "shared", buffer: 0, buffer_mode: "static", ratio: 1,
    minimum: 0, fixed: 0, min_display: 0, max_display: null, sellout_threshold: 0, sync: true, warehouses: null };

  it("does not send a form with a wrong field and says which field", async () => {
    const putAllocation = vi.fn();
    withApp(<AllocationForm platform="tiktok" shop="demo" />, { allocation: vi.fn(async () => saved), putAllocation });
    const ratio = await screen.findByLabelText("Share of the pool (0–1)");
    fireEvent.change(ratio, { target: { value: "2" } });
    fireEvent.click(screen.getByText("Save"));
    expect(await screen.findByText("A number from 0 to 1.")).toBeTruthy();
    expect(ratio.getAttribute("aria-invalid")).toBe("true");
    expect(putAllocation).not.toHaveBeenCalled();
  });

  it("sends a valid change and shows it saved", async () => {
    const putAllocation = vi.fn(async (_p: string, _s: string, body: object) => ({ ...saved, ...body }));
    withApp(<AllocationForm platform="tiktok" shop="demo" />, { allocation: vi.fn(async () => saved), putAllocation });
    fireEvent.change(await screen.findByLabelText("Buffer (units kept back)"), { target: { value: "3" } });
    fireEvent.click(screen.getByText("Save"));
    expect(await screen.findByText("Saved.")).toBeTruthy();
    expect(putAllocation).toHaveBeenCalledWith("tiktok", "demo", expect.objectContaining({ buffer: 3, ratio: 1, rule: "shared" }));
  });

  it("turns presale on with its window, and refuses a window past a year", async () => {
    const putAllocation = vi.fn(async (_p: string, _s: string, body: object) => ({ ...saved, ...body }));
    withApp(<AllocationForm platform="tiktok" shop="demo" />, { allocation: vi.fn(async () => saved), putAllocation });
    fireEvent.click(await screen.findByLabelText("Also sell stock on its way (presale)"));
    const days = screen.getByLabelText("Arriving within (days)");
    fireEvent.change(days, { target: { value: "400" } });
    fireEvent.click(screen.getByText("Save"));
    expect(await screen.findByText("A whole number of days from 0 to 365.")).toBeTruthy();
    expect(putAllocation).not.toHaveBeenCalled();
    fireEvent.change(days, { target: { value: "5" } });
    fireEvent.click(screen.getByText("Save"));
    expect(await screen.findByText("Saved.")).toBeTruthy();
    expect(putAllocation).toHaveBeenCalledWith("tiktok", "demo",
      expect.objectContaining({ presale: { enabled: true, within_days: 5 } }));
  });
});
