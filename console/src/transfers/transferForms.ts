/** Transfers in the console: which actions a state allows, the receipt form (short lines need a loss reason) and
 * the lane form, checked with the API's limits before sending. Errors are i18n keys. */
import type { Transfer, TransferStatus, TransferSuggestion } from "../api/client";

export type Errors = Record<string, string>;
export type TransferAction = "pick" | "receive" | "cancel";

export function transferActions(status: TransferStatus): TransferAction[] {
  if (status === "draft") return ["pick", "cancel"];
  if (status === "picked") return ["receive", "cancel"];
  return [];
}

/** The body of POST /transfers for a suggestion: move its quantity of its SKU along its lane. */
export function transferFromSuggestion(s: TransferSuggestion) {
  return { from_warehouse: s.from_warehouse, to_warehouse: s.to_warehouse, lines: [{ sku: s.sku, qty: s.qty }] };
}

export type ReceiveForm = Record<number, { received: string; reason: string }>;

export function receiveDefaults(transfer: Transfer): ReceiveForm {
  return Object.fromEntries(transfer.lines.map((l) => [l.line, { received: String(l.qty), reason: "" }]));
}

/** Lines whose count differs from what left (short: lost with a reason); none when everything arrived. */
export function validateTransferReceipt(form: ReceiveForm, transfer: Transfer):
  { ok: true; lines: { line: number; received: number; loss_reason?: string }[] } | { ok: false; errors: Errors } {
  const errors: Errors = {};
  const lines: { line: number; received: number; loss_reason?: string }[] = [];
  for (const l of transfer.lines) {
    const row = form[l.line] ?? { received: String(l.qty), reason: "" };
    const text = row.received.trim();
    if (!/^\d+$/.test(text)) { errors[`received-${l.line}`] = "validation.wholeNumber"; continue; }
    const received = Number(text);
    if (received > l.qty) { errors[`received-${l.line}`] = "validation.moreThanSent"; continue; }
    const reason = row.reason.trim();
    if (received < l.qty && !reason) { errors[`reason-${l.line}`] = "validation.lossReason"; continue; }
    if (reason.length > 500) { errors[`reason-${l.line}`] = "validation.tooLong"; continue; }
    if (received < l.qty) lines.push({ line: l.line, received, loss_reason: reason });
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, lines };
}

export interface LaneForm { from: string; to: string; transit_days: string; cost_per_unit: string }

export function validateLane(form: LaneForm):
  { ok: true; from: string; to: string; body: { transit_days: number; cost_per_unit: number | null } } | { ok: false; errors: Errors } {
  const errors: Errors = {};
  if (!form.from) errors.from = "validation.choose";
  if (!form.to) errors.to = "validation.choose";
  if (form.from && form.from === form.to) errors.to = "validation.sameWarehouse";
  const daysText = form.transit_days.trim();
  const days = Number(daysText);
  if (daysText === "" || !Number.isFinite(days) || days < 0 || days > 365) errors.transit_days = "validation.transitDays";
  const costText = form.cost_per_unit.trim();
  const cost = costText === "" ? null : Number(costText);
  if (cost !== null && (!Number.isFinite(cost) || cost < 0 || cost > 1e9)) errors.cost_per_unit = "validation.cost";
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, from: form.from, to: form.to, body: { transit_days: days, cost_per_unit: cost } };
}
