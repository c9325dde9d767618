/** A shipped purchase order: line 1 on its way, line 2 not shipped. */
import type { PurchaseOrder } from "../src/api/client";

export const PO: PurchaseOrder = {
  po_id: "PO-7", supplier_id: "acme", warehouse_id: "wh-a", currency: "CNY", status: "shipped", eta: "2026-12-20",
  created_at: 1_765_000_000_000, created_by: "buyer-1", total: 1032,
  lines: [
    { line: 1, sku: "TEE-RED-M", qty: 120, unit_price: 6.5, promised_date: "2026-12-20", shipped: 120, received: 0, rejected: 0, on_the_way: 120 },
    { line: 2, sku: "MUG-1", qty: 60, unit_price: 4.2, promised_date: null, shipped: 0, received: 0, rejected: 0, on_the_way: 0 },
  ],
  history: [{ status: "draft", at: 1_765_000_000_000, by: "buyer-1" }],
};
