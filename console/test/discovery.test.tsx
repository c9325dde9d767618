/** Connecting a shop's listings: the report (mapped, unmapped with suggestions, conflicts), the seller's picks
 * sent as an explicit mapping with a new discovery, the apply, and the first-sync choice per shop or listing. */
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MemoryRouter } from "react-router";
import { ApiError, type ApiClient, type DiscoveryJob, type FirstSyncRow } from "../src/api/client";
import { AppContext, type AppState } from "../src/AppContext";
import { ShopDiscovery } from "../src/discovery/ConnectListingsPage";
import { firstSyncBody, mappingFrom } from "../src/discovery/discoveryRules";
import { initI18n } from "../src/i18n";

beforeAll(() => { initI18n("en"); });
afterEach(() => { cleanup(); vi.restoreAllMocks(); });

const base = { discovery_id: "d-1", platform: "shopify", shop: "east", progress: { pages: 0, calls: 0, listings_found: 0, applied: 0 } };
const DISCOVERING: DiscoveryJob = { ...base, status: "discovering" };
const READY: DiscoveryJob = {
  ...base, status: "ready", progress: { pages: 3, calls: 3, listings_found: 4, applied: 0 },
  summary: { listings: 4, mapped: 1, unmapped: 1, conflicts: 1, already_mapped: 0 },
  mapped: [{ listing_id: "L1", seller_sku: "TEA-1", barcode: null, title: "Green tea", components: [{ sku: "TEA-1", qty: 1 }], rule: "sku_code" }],
  unmapped: [{ listing_id: "L2", seller_sku: "TEA1X", barcode: null, title: "Tea", suggestions: ["TEA-1", "TEA-2"] }],
  conflicts: [{ kind: "one_listing_two_skus", skus: ["MUG-1", "MUG-2"], listings: [{ listing_id: "L3", seller_sku: "MUG-1", barcode: "123", title: "Mug" }] }],
  already_mapped: [],
};
const row = (listing_id: string, over: Partial<FirstSyncRow> = {}): FirstSyncRow => ({
  listing_id, components: [{ sku: "TEA-1", qty: 1 }], status: "pending", platform_qty: 7, stocklink_qty: 20, difference: 13, ...over });
const CHOOSING: DiscoveryJob = { ...READY, status: "choosing", first_sync: [row("L1"), row("L4", { platform_qty: null, stocklink_qty: 3, difference: null })] };

function renderShop(api: Partial<ApiClient>, roles = ["staff"], discoveryId: string | null = null) {
  const onDiscovery = vi.fn();
  const state = { config: { apiBase: "", auth: { mode: "token" } }, signIn: vi.fn(), signOut: vi.fn(),
    session: { token: "x", source: "token", expiresAt: Date.now() + 1e6, roles },
    api: { warehouses: vi.fn(async () => [{ warehouse_id: "wh-a", name: "A" }]), ...api } as ApiClient } as unknown as AppState;
  render(<AppContext.Provider value={state}><MemoryRouter>
    <ShopDiscovery platform="shopify" shop="east" discoveryId={discoveryId} onDiscovery={onDiscovery} pollMs={1} />
  </MemoryRouter></AppContext.Provider>);
  return onDiscovery;
}
const cells = (table: string, col: string) =>
  [...document.querySelectorAll(`[data-table='${table}'] td[data-col='${col}']`)].map((td) => td.textContent);

describe("discovery rules", () => {
  it("keeps earlier picks, adds this round's, drops blanks", () => {
    expect(mappingFrom({ L9: [{ sku: "A", qty: 2 }] }, { L2: " TEA-1 ", L3: "", L9: "" })).toEqual({
      L9: [{ sku: "A", qty: 2 }], L2: [{ sku: "TEA-1", qty: 1 }] });
  });

  it("asks for the ticked pending listings or the whole shop, and a warehouse for an opening count", () => {
    const rows = [row("L1"), row("L2", { status: "push" }), row("L3")];
    expect(firstSyncBody("push", "", new Set(), rows)).toEqual({ body: { choice: "push" } });
    expect(firstSyncBody("push", "", new Set(["L3", "L2"]), rows)).toEqual({ body: { choice: "push", listing_ids: ["L3"] } });
    expect(firstSyncBody("opening", "", new Set(), rows)).toEqual({ problem: "discovery.pickWarehouse" });
    expect(firstSyncBody("opening", "wh-a", new Set(["L1"]), rows)).toEqual({ body: { choice: "opening", warehouse_id: "wh-a", listing_ids: ["L1"] } });
    expect(firstSyncBody("push", "", new Set(), [row("L2", { status: "opening" })])).toEqual({ problem: "discovery.nothingPending" });
  });
});

describe("ShopDiscovery", () => {
  it("starts a discovery, polls it to its report and sends the seller's picks as a mapping with a new one", async () => {
    const discover = vi.fn().mockResolvedValueOnce(DISCOVERING).mockResolvedValueOnce({ ...DISCOVERING, discovery_id: "d-2" });
    const discovery = vi.fn().mockResolvedValueOnce({ ...DISCOVERING, progress: { pages: 1, calls: 1, listings_found: 2, applied: 0 } })
      .mockResolvedValueOnce(READY).mockResolvedValue({ ...READY, discovery_id: "d-2" });
    const onDiscovery = renderShop({ discover, discovery });
    fireEvent.click(screen.getByText("Discover listings"));
    await screen.findByText("4 listings: 1 mapped, 1 unmapped, 1 conflicts, 0 already mapped before.");
    expect(discover).toHaveBeenCalledWith("shopify", "east", {});
    expect(onDiscovery).toHaveBeenCalledWith("d-1");
    expect(cells("discovery-mapped", "rule")).toEqual(["seller SKU code"]);
    expect(cells("discovery-conflicts", "kind")).toEqual(["one listing matches two SKUs"]);
    fireEvent.click(screen.getByLabelText("Map listing L2 to TEA-2"));
    expect((screen.getByLabelText("SKU for listing L2") as HTMLInputElement).value).toBe("TEA-2");
    fireEvent.change(screen.getByLabelText("SKU for listing L3"), { target: { value: "MUG-2" } });
    fireEvent.click(screen.getByText("Discover again with my 2 mapping(s)"));
    await waitFor(() => expect(discover).toHaveBeenCalledTimes(2));
    expect(discover).toHaveBeenLastCalledWith("shopify", "east", { L2: [{ sku: "TEA-2", qty: 1 }], L3: [{ sku: "MUG-2", qty: 1 }] });
    await waitFor(() => expect(onDiscovery).toHaveBeenLastCalledWith("d-2"));
  });

  it("applies the mapped listings, shows the differences and sends the first-sync choice for the ticked listing", async () => {
    const applyDiscovery = vi.fn(async () => ({ ...READY, status: "applying" as const }));
    const discovery = vi.fn().mockResolvedValueOnce(READY).mockResolvedValueOnce(CHOOSING)
      .mockResolvedValueOnce({ ...CHOOSING, status: "done", first_sync: [row("L1", { status: "opening", opening: "booked" }), row("L4", { status: "push" })] });
    const firstSync = vi.fn(async () => ({ ...CHOOSING, status: "settling" as const }));
    renderShop({ discovery, applyDiscovery, firstSync }, ["staff"], "d-1");
    fireEvent.click(await screen.findByText("Apply the 1 mapped listings"));
    await screen.findByText("First sync", { selector: "h3" });
    expect(applyDiscovery).toHaveBeenCalledWith("shopify", "east", "d-1");
    expect([cells("discovery-first-sync", "platform_qty"), cells("discovery-first-sync", "stocklink_qty"),
      cells("discovery-first-sync", "difference")]).toEqual([["7", "—"], ["20", "3"], ["13", "—"]]);
    expect(screen.getByText("Nothing ticked: the choice applies to all 2 listings waiting.")).toBeTruthy();
    fireEvent.click(screen.getByLabelText("Choose listing L1"));
    fireEvent.click(screen.getByText("Take the platform's numbers as the opening count for …"));
    expect(screen.getByRole("alert").textContent).toBe("Choose the warehouse whose opening count the platform's numbers become.");
    expect(firstSync).not.toHaveBeenCalled();
    // the warehouses load on their own: a select ignores a value it has no option for yet
    await screen.findByRole("option", { name: /\(wh-a\)/ });
    fireEvent.change(screen.getByTestId("opening-warehouse"), { target: { value: "wh-a" } });
    fireEvent.click(await screen.findByText("Take the platform's numbers as the opening count for wh-a"));
    await screen.findByText("Every listing of this discovery is synced.");
    expect(firstSync).toHaveBeenCalledWith("shopify", "east", "d-1", { choice: "opening", warehouse_id: "wh-a", listing_ids: ["L1"] });
    expect(cells("discovery-first-sync", "status")).toEqual(["opening count: booked", "StockLink's number pushed"]);
  });

  it("pushes for the whole shop when nothing is ticked, and shows a refusal in the API's words", async () => {
    const firstSync = vi.fn(async () => { throw new ApiError("invalid", 409, "POST …/first-sync", "discovery d-1 changed meanwhile: read it again"); });
    renderShop({ discovery: vi.fn(async () => CHOOSING), firstSync }, ["staff"], "d-1");
    fireEvent.click(await screen.findByText("StockLink's pool is the truth (push)"));
    await screen.findByText("StockLink refused this: discovery d-1 changed meanwhile: read it again");
    expect(firstSync).toHaveBeenCalledWith("shopify", "east", "d-1", { choice: "push" });
  });

  it("says why a discovery failed, and shows a viewer the report without buttons", async () => {
    renderShop({ discovery: vi.fn(async () => ({ ...base, status: "failed" as const, error: "HTTP 401 invalid token" })) }, ["staff"], "d-1");
    await screen.findByText("The discovery failed: HTTP 401 invalid token");
    cleanup();
    renderShop({ discovery: vi.fn(async () => CHOOSING) }, ["viewer"], "d-1");
    await screen.findByText("First sync", { selector: "h3" });
    expect(screen.queryByText("StockLink's pool is the truth (push)")).toBeNull();
    expect(screen.queryByText("Discover again")).toBeNull();
    expect(cells("discovery-unmapped", "suggestions")).toEqual(["TEA-1, TEA-2"]);
  });
});
