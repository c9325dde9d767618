/** Allocation and subscription forms: the same limits the API enforces (AllocationIn, SUBSCRIPTION_IN), checked
 * before sending so a person sees which field is wrong, in their language. Errors are i18n keys. */
import type { Allocation } from "../api/client";

export type AllocationForm = Record<keyof Omit<Allocation, "platform" | "shop" | "warehouses" | "sync" | "rule" | "buffer_mode" | "presale">, string>
  & { rule: string; buffer_mode: string; sync: boolean; warehouses: string; presale_enabled: boolean; presale_within_days: string };
export type FieldErrors = Partial<Record<string, string>>;

const MAX_UNITS = 1_000_000;
const MAX_PRESALE_DAYS = 365;   // domain/presale.MAX_WITHIN_DAYS

export function allocationToForm(a: Allocation): AllocationForm {
  return {
    rule: a.rule, buffer: String(a.buffer), buffer_mode: a.buffer_mode, ratio: String(a.ratio),
    minimum: String(a.minimum), fixed: String(a.fixed), min_display: String(a.min_display),
    max_display: a.max_display === null ? "" : String(a.max_display), sellout_threshold: String(a.sellout_threshold),
    sync: a.sync, warehouses: (a.warehouses ?? []).join(", "),
    presale_enabled: a.presale?.enabled ?? false, presale_within_days: String(a.presale?.within_days ?? 7),
  };
}

function units(text: string, errors: FieldErrors, field: string, optional = false): number | null {
  const trimmed = text.trim();
  if (trimmed === "" && optional) return null;
  if (!/^\d+$/.test(trimmed)) {
    errors[field] = "validation.wholeNumber";
    return null;
  }
  const n = Number(trimmed);
  if (n > MAX_UNITS) errors[field] = "validation.tooLarge";
  return n;
}

/** The request body, or the errors per field (i18n keys). */
export function validateAllocation(form: AllocationForm):
  { ok: true; body: Omit<Allocation, "platform" | "shop"> } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (!["shared", "quota", "fixed"].includes(form.rule)) errors.rule = "validation.choose";
  if (!["static", "dynamic"].includes(form.buffer_mode)) errors.buffer_mode = "validation.choose";
  const ratioText = form.ratio.trim();
  const ratio = Number(ratioText);
  if (ratioText === "" || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) errors.ratio = "validation.ratio";
  const buffer = units(form.buffer, errors, "buffer");
  const minimum = units(form.minimum, errors, "minimum");
  const fixed = units(form.fixed, errors, "fixed");
  const minDisplay = units(form.min_display, errors, "min_display");
  const maxDisplay = units(form.max_display, errors, "max_display", true);
  const sellout = units(form.sellout_threshold, errors, "sellout_threshold");
  if (minDisplay !== null && maxDisplay !== null && !errors.max_display && maxDisplay < minDisplay) {
    errors.max_display = "validation.maxBelowMin";
  }
  const days = form.presale_within_days.trim();
  if (!/^\d+$/.test(days) || Number(days) > MAX_PRESALE_DAYS) errors.presale_within_days = "validation.presaleDays";
  const warehouses = form.warehouses.split(",").map((w) => w.trim()).filter(Boolean);
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    body: {
      rule: form.rule as Allocation["rule"], buffer: buffer!, buffer_mode: form.buffer_mode as Allocation["buffer_mode"],
      ratio, minimum: minimum!, fixed: fixed!, min_display: minDisplay!, max_display: maxDisplay,
      sellout_threshold: sellout!, sync: form.sync, warehouses: warehouses.length ? warehouses : null,
      presale: { enabled: form.presale_enabled, within_days: Number(days) },
    },
  };
}

export const PROTOCOLS = ["email", "sms", "slack", "dingtalk", "feishu", "lark", "wecom"] as const;

export function validateSubscription(form: { id: string; protocol: string; endpoint: string; name: string }):
  FieldErrors {
  const errors: FieldErrors = {};
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(form.id.trim())) errors.id = "validation.subscriptionId";
  if (!(PROTOCOLS as readonly string[]).includes(form.protocol)) errors.protocol = "validation.choose";
  const endpoint = form.endpoint.trim();
  if (!endpoint) errors.endpoint = "validation.required";
  else if (form.protocol === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(endpoint)) errors.endpoint = "validation.email";
  else if (form.protocol === "sms" && !/^\+[1-9]\d{6,14}$/.test(endpoint)) errors.endpoint = "validation.phone";
  else if (!["email", "sms"].includes(form.protocol) && !/^https:\/\/\S+$/.test(endpoint)) errors.endpoint = "validation.https";
  return errors;
}
