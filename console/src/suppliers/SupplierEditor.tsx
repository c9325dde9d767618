/** Create or edit a supplier (PUT /suppliers/{id}: the whole record; retired with "active" off, never deleted). */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { SupplierRecord } from "../api/client";
import { useApp } from "../AppContext";
import { ErrorState } from "../components/States";
import { EMPTY_SUPPLIER, supplierToForm, validateSupplier, type Errors, type SupplierForm } from "./supplierForms";

const TEXT_FIELDS = ["name", "currency", "contact_name", "email", "phone", "lead_time_days", "lead_time_spread_days",
  "moq", "case_pack", "payment_terms"] as const;

export function SupplierEditor({ supplier, onSaved }: { supplier: SupplierRecord | null; onSaved: (s: SupplierRecord) => void }) {
  const { t } = useTranslation();
  const { api } = useApp();
  const [form, setForm] = useState<SupplierForm>(() => (supplier ? supplierToForm(supplier) : EMPTY_SUPPLIER));
  const [errors, setErrors] = useState<Errors>({});
  const [state, setState] = useState<{ busy: boolean; error: unknown; saved: boolean }>({ busy: false, error: null, saved: false });
  const prefix = supplier ? "sup-edit" : "sup-new";
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const checked = validateSupplier(form);
    if (!checked.ok) { setErrors(checked.errors); return; }
    setErrors({});
    setState({ busy: true, error: null, saved: false });
    try {
      const saved = await api.putSupplier(checked.id, checked.body);
      setState({ busy: false, error: null, saved: true });
      if (!supplier) setForm(EMPTY_SUPPLIER);
      onSaved(saved);
    } catch (error) {
      setState({ busy: false, error, saved: false });
    }
  };
  const field = (key: keyof SupplierForm, label: string) => {
    const id = `${prefix}-${key}`;
    return (
      <div className="field" key={key}>
        <label htmlFor={id}>{label}</label>
        <input id={id} value={String(form[key])} disabled={key === "supplier_id" && !!supplier}
               onChange={(e) => { setForm({ ...form, [key]: e.target.value }); setState((s) => ({ ...s, saved: false })); }}
               aria-invalid={!!errors[key]} aria-describedby={errors[key] ? `${id}-error` : undefined} />
        {errors[key] && <span id={`${id}-error`} className="field-error">{t(errors[key])}</span>}
      </div>
    );
  };
  return (
    <form className="allocation" onSubmit={(e) => void submit(e)} noValidate data-form={prefix}
          aria-label={supplier ? t("suppliers.editTitle", { name: supplier.name }) : t("suppliers.newTitle")}>
      {field("supplier_id", t("suppliers.id"))}
      {TEXT_FIELDS.map((key) => field(key, t(`suppliers.fields.${key}`)))}
      <label className="check">
        <input type="checkbox" checked={form.active} onChange={(e) => setForm({ ...form, active: e.target.checked })} />
        {t("suppliers.active")}
      </label>
      <button type="submit" disabled={state.busy}>{supplier ? t("actions.save") : t("suppliers.create")}</button>
      {state.saved && <p role="status" className="saved">{t("allocation.saved")}</p>}
      {state.error ? <ErrorState error={state.error} /> : null}
    </form>
  );
}
