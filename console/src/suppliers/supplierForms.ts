/** Supplier and quote forms: the limits the API enforces (SupplierRecordIn, QuoteIn), checked before sending so
 * a person sees which field is wrong, in their language. Errors are i18n keys. */
import type { QuoteBody, SupplierBody, SupplierRecord } from "../api/client";

export type Errors = Record<string, string>;
export const MAX_BREAKS = 20;
const IDENT = /^[A-Za-z0-9._:@/+-]{1,128}$/;

export interface SupplierForm {
  supplier_id: string; name: string; currency: string; contact_name: string; email: string; phone: string;
  lead_time_days: string; lead_time_spread_days: string; moq: string; case_pack: string; payment_terms: string;
  active: boolean;
}

export const EMPTY_SUPPLIER: SupplierForm = {
  supplier_id: "", name: "", currency: "CNY", contact_name: "", email: "", phone: "", lead_time_days: "14",
  lead_time_spread_days: "0", moq: "1", case_pack: "1", payment_terms: "", active: true,
};

export function supplierToForm(s: SupplierRecord): SupplierForm {
  return {
    supplier_id: s.supplier_id, name: s.name, currency: s.currency ?? "", contact_name: s.contact?.name ?? "",
    email: s.contact?.email ?? "", phone: s.contact?.phone ?? "", lead_time_days: String(s.lead_time_days),
    lead_time_spread_days: String(s.lead_time_spread_days), moq: String(s.moq), case_pack: String(s.case_pack),
    payment_terms: s.payment_terms ?? "", active: s.active,
  };
}

function whole(text: string, field: string, errors: Errors, min: number, max: number): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min) { errors[field] = min > 0 ? "validation.positiveWhole" : "validation.wholeNumber"; return 0; }
  if (Number(trimmed) > max) { errors[field] = "validation.tooLarge"; return 0; }
  return Number(trimmed);
}

function days(text: string, field: string, errors: Errors, positive: boolean): number {
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (trimmed === "" || !Number.isFinite(n) || (positive ? n <= 0 : n < 0) || n > 365) {
    errors[field] = positive ? "validation.leadTime" : "validation.spread";
    return 0;
  }
  return n;
}

export function validateSupplier(form: SupplierForm): { ok: true; id: string; body: SupplierBody } | { ok: false; errors: Errors } {
  const errors: Errors = {};
  const id = form.supplier_id.trim();
  if (!IDENT.test(id)) errors.supplier_id = "validation.identifier";
  const name = form.name.trim();
  if (!name) errors.name = "validation.required";
  else if (name.length > 200) errors.name = "validation.tooLong";
  const currency = form.currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) errors.currency = "validation.currency";
  const email = form.email.trim();
  if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.email = "validation.email";
  const phone = form.phone.trim();
  if (!/^[0-9+() .-]{0,40}$/.test(phone)) errors.phone = "validation.phoneChars";
  if (form.contact_name.trim().length > 200) errors.contact_name = "validation.tooLong";
  if (form.payment_terms.trim().length > 200) errors.payment_terms = "validation.tooLong";
  const lead = days(form.lead_time_days, "lead_time_days", errors, true);
  const spread = days(form.lead_time_spread_days, "lead_time_spread_days", errors, false);
  const moq = whole(form.moq, "moq", errors, 1, 10_000_000);
  const casePack = whole(form.case_pack, "case_pack", errors, 1, 100_000);
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true, id,
    body: {
      name, currency, contact: { name: form.contact_name.trim(), email, phone }, lead_time_days: lead,
      lead_time_spread_days: spread, moq, case_pack: casePack, payment_terms: form.payment_terms.trim(), active: form.active,
    },
  };
}

export interface QuoteForm {
  sku: string; breaks: { min_qty: string; unit_price: string }[];
  moq: string; case_pack: string; lead_time_days: string;
}

export const EMPTY_QUOTE: QuoteForm = { sku: "", breaks: [{ min_qty: "1", unit_price: "" }], moq: "", case_pack: "", lead_time_days: "" };

/** Price breaks: min_qty strictly ascending, a larger quantity never dearer per unit (as the API says). */
export function validateQuote(form: QuoteForm): { ok: true; sku: string; body: QuoteBody } | { ok: false; errors: Errors } {
  const errors: Errors = {};
  const sku = form.sku.trim();
  if (!IDENT.test(sku)) errors.sku = "validation.identifier";
  if (!form.breaks.length) errors.breaks = "validation.oneBreak";
  if (form.breaks.length > MAX_BREAKS) errors.breaks = "validation.tooManyBreaks";
  const breaks = form.breaks.map((b, i) => {
    const minQty = whole(b.min_qty, `min_qty-${i}`, errors, 1, 10_000_000);
    const text = b.unit_price.trim();
    const price = Number(text);
    if (text === "" || !Number.isFinite(price) || price <= 0 || price > 1e9) errors[`unit_price-${i}`] = "validation.price";
    return { min_qty: minQty, unit_price: price };
  });
  breaks.forEach((b, i) => {
    if (i === 0 || errors[`min_qty-${i}`] || errors[`unit_price-${i}`]) return;
    if (b.min_qty <= breaks[i - 1].min_qty) errors[`min_qty-${i}`] = "validation.ascending";
    else if (b.unit_price > breaks[i - 1].unit_price) errors[`unit_price-${i}`] = "validation.notDearer";
  });
  const body: QuoteBody = { price_breaks: breaks };
  if (form.moq.trim()) body.moq = whole(form.moq, "moq", errors, 1, 10_000_000);
  if (form.case_pack.trim()) body.case_pack = whole(form.case_pack, "case_pack", errors, 1, 100_000);
  if (form.lead_time_days.trim()) body.lead_time_days = days(form.lead_time_days, "lead_time_days", errors, true);
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, sku, body };
}
