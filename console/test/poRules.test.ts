/** Purchase orders: the actions a state and a role allow, and the ship and receipt forms' bodies. */
import { describe, expect, it } from "vitest";
import type { PurchaseOrder } from "../src/api/client";
import { PO } from "./poFixture";
import { grnId, lineAmount, poActions, receiptDefaults, validateReceipt, validateShip } from "../src/purchasing/poRules";


const kinds = (status: PurchaseOrder["status"], roles?: string[]) =>
  poActions(status, roles).map((a) => (a.kind === "status" ? a.status : a.kind));

describe("poActions", () => {
  it("follows the API's state machine", () => {
    expect(kinds("draft", ["admin"])).toEqual(["ordered", "cancelled"]);
    expect(kinds("ordered", ["admin"])).toEqual(["paid", "producing", "cancelled", "ship"]);
    expect(kinds("producing", ["admin"])).toEqual(["cancelled", "ship"]);
    expect(kinds("shipped", ["admin"])).toEqual(["closed", "receive"]);
    for (const done of ["received", "cancelled", "closed"] as const) expect(kinds(done, ["admin"])).toEqual([]);
  });

  it("gives buyers the buying actions, staff the receiving, viewers nothing", () => {
    expect(kinds("ordered", ["buyer"])).toEqual(["paid", "producing", "cancelled", "ship"]);
    expect(kinds("shipped", ["buyer"])).toEqual(["closed"]);
    expect(kinds("ordered", ["staff"])).toEqual([]);
    expect(kinds("shipped", ["staff"])).toEqual(["receive"]);
    expect(kinds("shipped", ["viewer"])).toEqual([]);
    expect(kinds("shipped", undefined)).toEqual(["closed", "receive"]);     // roles unknown: the API decides
  });
});

describe("validateShip", () => {
  it("ships whole lines when no quantity is typed, the typed ones otherwise", () => {
    expect(validateShip({ eta: "2026-12-24", qty: {} }, PO)).toEqual({ ok: true, body: { eta: "2026-12-24" } });
    expect(validateShip({ eta: " 2026-12-24 ", qty: { 1: "100", 2: "0" } }, PO))
      .toEqual({ ok: true, body: { eta: "2026-12-24", lines: [{ line: 1, qty: 100 }, { line: 2, qty: 0 }] } });
  });

  it("refuses a missing or impossible ETA, a bad or excessive quantity, and a shipment of nothing", () => {
    expect(validateShip({ eta: "", qty: {} }, PO)).toEqual({ ok: false, errors: { eta: "validation.date" } });
    expect(validateShip({ eta: "2026-02-30", qty: {} }, PO)).toEqual({ ok: false, errors: { eta: "validation.date" } });
    expect(validateShip({ eta: "2026-12-24", qty: { 1: "-3", 2: "61" } }, PO)).toEqual({ ok: false,
      errors: { "qty-1": "validation.wholeNumber", "qty-2": "validation.moreThanOrdered" } });
    expect(validateShip({ eta: "2026-12-24", qty: { 1: "0", 2: "0" } }, PO))
      .toEqual({ ok: false, errors: { form: "purchaseOrders.shipNothing" } });
  });
});

describe("validateReceipt", () => {
  it("starts from what is on its way under a generated GRN reference", () => {
    const form = receiptDefaults(PO, new Date(Date.UTC(2026, 11, 21, 9, 5, 7)), () => 0.5);
    expect(form.reference).toBe("GRN-PO-7-20261221-090507-8000");
    expect(form.lines).toEqual({ 1: { received: "120", rejected: "", reason: "" } });
    expect(form.acceptOver).toBe(false);
  });

  it("sends the counted lines, rejects with their reason, and over-receipt only when accepted", () => {
    const form = { reference: "GRN-1", acceptOver: false, lines: { 1: { received: "50", rejected: "2", reason: " crushed " } } };
    expect(validateReceipt(form, PO)).toEqual({ ok: true, body: { reference: "GRN-1",
      lines: [{ line: 1, received: 50, rejected: 2, reject_reason: "crushed" }] } });
    expect(validateReceipt({ ...form, acceptOver: true, lines: { 1: { received: "130", rejected: "", reason: "" } } }, PO))
      .toEqual({ ok: true, body: { reference: "GRN-1", lines: [{ line: 1, received: 130 }], accept_over_receipt: true } });
  });

  it("refuses rejects without a reason, a bad reference, bad numbers and an empty receipt", () => {
    expect(validateReceipt({ reference: "GRN 1", acceptOver: false,
      lines: { 1: { received: "x", rejected: "3", reason: "" } } }, PO)).toEqual({ ok: false, errors: {
      reference: "validation.reference", "received-1": "validation.wholeNumber", "reason-1": "validation.rejectReason" } });
    expect(validateReceipt({ reference: "GRN-1", acceptOver: false, lines: { 1: { received: "0", rejected: "", reason: "" } } }, PO))
      .toEqual({ ok: false, errors: { form: "purchaseOrders.receiveNothing" } });
  });
});

describe("grnId and lineAmount", () => {
  it("keep references to the API's identifier limits and price lines that have a price", () => {
    expect(grnId("X".repeat(128), new Date(0)).length).toBeLessThanOrEqual(128);
    expect(grnId("PO-1", new Date(0), () => 0)).toBe("GRN-PO-1-19700101-000000-0000");
    // two receipts in the same second get different references (the second would otherwise be a 409)
    const same = new Date(Date.UTC(2026, 0, 1));
    expect(new Set(Array.from({ length: 20 }, () => grnId("PO-1", same))).size).toBeGreaterThan(1);
    expect(lineAmount(PO.lines[0])).toBe(780);
    expect(lineAmount({ ...PO.lines[0], unit_price: null })).toBeNull();
  });
});
