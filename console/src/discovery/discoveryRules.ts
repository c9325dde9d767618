/** The listing-connection page's rules (pure): when a discovery job is still working, the explicit mapping the
 * seller's picks make, and the first-sync request for the listings chosen. */
import type { Component, DiscoveryJob, DiscoveryStatus, FirstSyncBody, FirstSyncRow } from "../api/client";

export const WORKING: readonly DiscoveryStatus[] = ["discovering", "applying", "settling"];
export const isWorking = (job: DiscoveryJob) => WORKING.includes(job.status);

/** listing id -> the SKU the seller picked or typed (blank: no choice). */
export type Picks = Record<string, string>;

/** The explicit mapping a new discovery takes (`{"mapping": {listing_id: [{sku, qty}]}}`): the picks of earlier
 * rounds kept, this round's added over them, blanks dropped. */
export function mappingFrom(earlier: Record<string, Component[]>, picks: Picks): Record<string, Component[]> {
  const out = { ...earlier };
  for (const [listing, sku] of Object.entries(picks)) {
    const code = sku.trim();
    if (code) out[listing] = [{ sku: code, qty: 1 }];
  }
  return out;
}

export const pendingRows = (rows: FirstSyncRow[] | undefined) => (rows ?? []).filter((r) => r.status === "pending");

/** "push" or "opening" (with its warehouse) for the chosen pending listings, or every pending one when none is
 * chosen; null with the reason's key when the request cannot be made. */
export function firstSyncBody(choice: "push" | "opening", warehouse: string, chosen: ReadonlySet<string>,
                              rows: FirstSyncRow[] | undefined): { body: FirstSyncBody } | { problem: string } {
  const pending = new Set(pendingRows(rows).map((r) => r.listing_id));
  if (!pending.size) return { problem: "discovery.nothingPending" };
  if (choice === "opening" && !warehouse) return { problem: "discovery.pickWarehouse" };
  const picked = [...chosen].filter((id) => pending.has(id)).sort();
  const body: FirstSyncBody = { choice, ...(choice === "opening" ? { warehouse_id: warehouse } : {}),
    ...(picked.length ? { listing_ids: picked } : {}) };
  return { body };
}

export const componentsText = (components: Component[] | undefined) =>
  (components ?? []).map((c) => (c.qty === 1 ? c.sku : `${c.sku}×${c.qty}`)).join(" + ");
