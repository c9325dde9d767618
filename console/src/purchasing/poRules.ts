/** Purchase orders in the console: which actions a person may take in which state (the API's state machine,
 * stocklink.domain.purchasing, and its route groups), and the ship and receipt forms checked before sending.
 * Errors are i18n keys. Over-receipt is not pre-judged here: the API knows what is on its way and says why. */
import type { PoLine, PoStatus, PurchaseOrder, ReceiptBody } from "../api/client";
import { can } from "../auth/roles";

/** Where a status may go by a person (receiving moves shipped → received by itself). */
const NEXT: Record<PoStatus, readonly PoStatus[]> = {
  draft: ["ordered", "cancelled"],
  ordered: ["paid", "producing", "cancelled"],
  paid: ["producing", "cancelled"],
  producing: ["cancelled"],
  shipped: ["closed"],
  received: [], cancelled: [], closed: [],
};
const SHIPPABLE: readonly PoStatus[] = ["ordered", "paid", "producing"];
export const PO_STATUSES: readonly PoStatus[] = ["draft", "ordered", "paid", "producing", "shipped", "received", "cancelled", "closed"];
export const STATUS_ACTIONS = ["ordered", "paid", "producing", "cancelled", "closed"] as const;

export type PoAction = { kind: "status"; status: PoStatus } | { kind: "ship" } | { kind: "receive" };

export function poActions(status: PoStatus, roles: readonly string[] | undefined): PoAction[] {
  const actions: PoAction[] = [];
  if (can(roles, "buying")) {
    actions.push(...NEXT[status].map((s) => ({ kind: "status" as const, status: s })));
    if (SHIPPABLE.includes(status)) actions.push({ kind: "ship" });
  }
  if (status === "shipped" && can(roles, "staff")) actions.push({ kind: "receive" });
  return actions;
}

/** A line's value at its price (null when the line has no price). */
export function lineAmount(line: PoLine): number | null {
  return line.unit_price === null ? null : Math.round(line.qty * line.unit_price * 100) / 100;
}

/** A goods-received-note id for a receipt's reference (the receipt's idempotency key): GRN-<PO>-<UTC time>-<random>.
 * The random part keeps two receipts booked within the same second apart (the API answers a reference reused for
 * other lines with a 409); the same form submitted twice keeps its reference, so a retry books once. */
export function grnId(poId: string, now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").replace("T", "-");
  const suffix = Math.floor(random() * 0x10000).toString(16).toUpperCase().padStart(4, "0");
  return `GRN-${poId.slice(0, 100)}-${stamp}-${suffix}`;
}

const WHOLE = /^\d+$/;
const IDENT = /^[A-Za-z0-9._:@/+-]{1,128}$/;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_UNITS = 1_000_000;
export type Errors = Record<string, string>;

function units(text: string, field: string, errors: Errors, max = MAX_UNITS): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  if (!WHOLE.test(trimmed)) { errors[field] = "validation.wholeNumber"; return null; }
  const n = Number(trimmed);
  if (n > max) { errors[field] = max === MAX_UNITS ? "validation.tooLarge" : "validation.moreThanOrdered"; return null; }
  return n;
}

export function isIsoDay(text: string): boolean {
  if (!ISO_DAY.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

export interface ShipForm { eta: string; qty: Record<number, string> }

/** The ship body: the ETA, and per-line quantities only where someone typed one (blank: the whole line). */
export function validateShip(form: ShipForm, po: PurchaseOrder):
  { ok: true; body: { eta: string; lines?: { line: number; qty: number }[] } } | { ok: false; errors: Errors } {
  const errors: Errors = {};
  if (!isIsoDay(form.eta.trim())) errors.eta = "validation.date";
  const lines: { line: number; qty: number }[] = [];
  for (const line of po.lines) {
    const qty = units(form.qty[line.line] ?? "", `qty-${line.line}`, errors, line.qty);
    if (qty !== null) lines.push({ line: line.line, qty });
  }
  if (lines.length && po.lines.every((l) => (lines.find((x) => x.line === l.line)?.qty ?? l.qty) === 0)) {
    errors.form = "purchaseOrders.shipNothing";
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, body: lines.length ? { eta: form.eta.trim(), lines } : { eta: form.eta.trim() } };
}

export interface ReceiptForm {
  reference: string; acceptOver: boolean;
  lines: Record<number, { received: string; rejected: string; reason: string }>;
}

/** The receipt body: lines with any units counted; rejected units need a reason. */
export function validateReceipt(form: ReceiptForm, po: PurchaseOrder):
  { ok: true; body: ReceiptBody } | { ok: false; errors: Errors } {
  const errors: Errors = {};
  const reference = form.reference.trim();
  if (!IDENT.test(reference)) errors.reference = "validation.reference";
  const lines: ReceiptBody["lines"] = [];
  for (const line of po.lines) {
    const row = form.lines[line.line];
    if (!row) continue;
    const received = units(row.received, `received-${line.line}`, errors) ?? 0;
    const rejected = units(row.rejected, `rejected-${line.line}`, errors) ?? 0;
    const reason = row.reason.trim();
    if (rejected > 0 && !reason) errors[`reason-${line.line}`] = "validation.rejectReason";
    if (reason.length > 500) errors[`reason-${line.line}`] = "validation.tooLong";
    if (received > 0 || rejected > 0) {
      lines.push({ line: line.line, received, ...(rejected > 0 ? { rejected, reject_reason: reason } : {}) });
    }
  }
  if (!lines.length && !Object.keys(errors).length) errors.form = "purchaseOrders.receiveNothing";
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, body: { reference, lines, ...(form.acceptOver ? { accept_over_receipt: true } : {}) } };
}

/** A receipt form that starts with what is on its way on each line (the usual case: it all arrived). */
export function receiptDefaults(po: PurchaseOrder, now: Date, random?: () => number): ReceiptForm {
  return {
    reference: grnId(po.po_id, now, random), acceptOver: false,
    lines: Object.fromEntries(po.lines.filter((l) => l.on_the_way > 0)
      .map((l) => [l.line, { received: String(l.on_the_way), rejected: "", reason: "" }])),
  };
}
