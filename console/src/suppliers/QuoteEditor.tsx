/** A supplier's quote for a SKU: price breaks and the SKU's own terms. The API lists quotes per SKU (GET
 * /skus/{sku}/suppliers), not per supplier, so a quote is looked up by its SKU, then edited and saved. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Quote } from "../api/client";
import { ApiError } from "../api/client";
import { useApp } from "../AppContext";
import { ErrorState } from "../components/States";
import { fmtMoney } from "../lib/format";
import { EMPTY_QUOTE, MAX_BREAKS, validateQuote, type Errors, type QuoteForm } from "./supplierForms";

function quoteToForm(q: Quote): QuoteForm {
  const own = (v: number | null | undefined) => (v === null || v === undefined ? "" : String(v));
  return {
    sku: q.sku, breaks: q.price_breaks.map((b) => ({ min_qty: String(b.min_qty), unit_price: String(b.unit_price) })),
    moq: own(q.moq), case_pack: own(q.case_pack), lead_time_days: own(q.lead_time_days),
  };
}

export function QuoteEditor({ supplierId, editable }: { supplierId: string; editable: boolean }) {
  const { t, i18n } = useTranslation();
  const { api } = useApp();
  const [form, setForm] = useState<QuoteForm>(EMPTY_QUOTE);
  const [current, setCurrent] = useState<Quote | null | undefined>(undefined);   // undefined: not looked up
  const [errors, setErrors] = useState<Errors>({});
  const [state, setState] = useState<{ busy: boolean; error: unknown; saved: boolean }>({ busy: false, error: null, saved: false });
  const lookUp = async () => {
    const sku = form.sku.trim();
    if (!sku) { setErrors({ sku: "validation.identifier" }); return; }
    setState({ busy: true, error: null, saved: false });
    try {
      const answer = await api.skuSuppliers(sku);
      const quote = answer.suppliers.find((s) => s.supplier_id === supplierId)?.quote ?? null;
      setCurrent(quote);
      setForm(quote ? quoteToForm(quote) : { ...EMPTY_QUOTE, sku });
      setState({ busy: false, error: null, saved: false });
    } catch (error) {
      const missing = error instanceof ApiError && error.kind === "not_found";
      setCurrent(missing ? null : undefined);
      setState({ busy: false, error: missing ? null : error, saved: false });
    }
  };
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const checked = validateQuote(form);
    if (!checked.ok) { setErrors(checked.errors); return; }
    setErrors({});
    setState({ busy: true, error: null, saved: false });
    try {
      const saved = await api.putQuote(supplierId, checked.sku, checked.body);
      setCurrent(saved);
      setForm(quoteToForm(saved));
      setState({ busy: false, error: null, saved: true });
    } catch (error) {
      setState({ busy: false, error, saved: false });
    }
  };
  const setBreak = (i: number, key: "min_qty" | "unit_price", value: string) =>
    setForm({ ...form, breaks: form.breaks.map((b, n) => (n === i ? { ...b, [key]: value } : b)) });
  const err = (field: string) => errors[field] && <span id={`q-${field}-error`} className="field-error">{t(errors[field])}</span>;
  const input = (field: string, label: string, value: string, onChange: (v: string) => void) => (
    <div className="field">
      <label htmlFor={`q-${field}`}>{label}</label>
      <input id={`q-${field}`} value={value} disabled={!editable && field !== "sku"} onChange={(e) => onChange(e.target.value)}
             aria-invalid={!!errors[field]} aria-describedby={errors[field] ? `q-${field}-error` : undefined} />
      {err(field)}
    </div>
  );
  return (
    <form className="po-form" onSubmit={(e) => void save(e)} noValidate aria-label={t("suppliers.quotes")} data-form="quote">
      <p className="help">{t("suppliers.quoteHelp")}</p>
      <div className="actions-row">
        {input("sku", t("fields.sku"), form.sku, (v) => setForm({ ...form, sku: v }))}
        <button type="button" onClick={() => void lookUp()} disabled={state.busy}>{t("suppliers.lookUp")}</button>
      </div>
      {current === null && <p className="note">{t("suppliers.noQuote")}</p>}
      {current && (
        <p className="note" data-current-quote>{t("suppliers.currentQuote", {
          breaks: current.price_breaks.map((b) => `≥ ${b.min_qty}: ${fmtMoney(b.unit_price, i18n.language)}`).join(", "),
          currency: current.currency ?? "" })}</p>
      )}
      <fieldset className="line-fields">
        <legend>{t("suppliers.breaks")}</legend>
        {form.breaks.map((b, i) => (
          <div key={i} className="actions-row">
            {input(`min_qty-${i}`, t("suppliers.minQty"), b.min_qty, (v) => setBreak(i, "min_qty", v))}
            {input(`unit_price-${i}`, t("fields.unit_price"), b.unit_price, (v) => setBreak(i, "unit_price", v))}
            {editable && form.breaks.length > 1 && (
              <button type="button" onClick={() => setForm({ ...form, breaks: form.breaks.filter((_, n) => n !== i) })}>
                {t("suppliers.removeBreak")}</button>
            )}
          </div>
        ))}
        {editable && form.breaks.length < MAX_BREAKS && (
          <button type="button" onClick={() => setForm({ ...form, breaks: [...form.breaks, { min_qty: "", unit_price: "" }] })}>
            {t("suppliers.addBreak")}</button>
        )}
        {errors.breaks && <p className="field-error">{t(errors.breaks)}</p>}
      </fieldset>
      <div className="actions-row">
        {input("moq", t("suppliers.quoteMoq"), form.moq, (v) => setForm({ ...form, moq: v }))}
        {input("case_pack", t("suppliers.quoteCasePack"), form.case_pack, (v) => setForm({ ...form, case_pack: v }))}
        {input("lead_time_days", t("suppliers.quoteLead"), form.lead_time_days, (v) => setForm({ ...form, lead_time_days: v }))}
      </div>
      {editable && <button type="submit" disabled={state.busy}>{t("suppliers.saveQuote")}</button>}
      {state.saved && <p role="status" className="saved">{t("allocation.saved")}</p>}
      {state.error ? <ErrorState error={state.error} /> : null}
    </form>
  );
}
