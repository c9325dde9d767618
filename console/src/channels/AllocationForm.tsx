/** A shop's allocation, editable: checked here with the API's own limits, then PUT; the answer is shown as saved. */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Allocation } from "../api/client";
import { useApp } from "../AppContext";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { allocationToForm, validateAllocation, type AllocationForm as Form, type FieldErrors } from "../lib/validation";

const NUMBER_FIELDS = ["buffer", "ratio", "minimum", "fixed", "min_display", "max_display", "sellout_threshold"] as const;

export function AllocationForm({ platform, shop }: { platform: string; shop: string }) {
  const { t } = useTranslation();
  const { api } = useApp();
  const loaded = useLoad(() => api.allocation(platform, shop), [api, platform, shop]);
  const [form, setForm] = useState<Form | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<Allocation | null>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { if (loaded.data) { setForm(allocationToForm(loaded.data)); setSaved(null); } }, [loaded.data]);

  if (loaded.loading) return <Loading />;
  if (loaded.error) return <ErrorState error={loaded.error} onRetry={loaded.reload} />;
  if (!form) return null;
  const update = (key: keyof Form, value: string | boolean) => {
    setForm({ ...form, [key]: value });
    setSaved(null);
  };
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const checked = validateAllocation(form);
    if (!checked.ok) { setErrors(checked.errors); return; }
    setErrors({});
    setBusy(true);
    setSaveError(null);
    try {
      const answer = await api.putAllocation(platform, shop, checked.body);
      setSaved(answer);
      setForm(allocationToForm(answer));
    } catch (err) {
      setSaveError(err);
    } finally {
      setBusy(false);
    }
  };
  const id = (field: string) => `alloc-${field}`;
  return (
    <form className="allocation" onSubmit={(e) => void submit(e)} noValidate aria-label={t("channels.allocationOf", { platform, shop })}>
      <div className="field">
        <label htmlFor={id("rule")}>{t("allocation.rule")}</label>
        <select id={id("rule")} value={form.rule} onChange={(e) => update("rule", e.target.value)}>
          {["shared", "quota", "fixed"].map((r) => <option key={r} value={r}>{t(`allocation.rules.${r}`)}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor={id("buffer_mode")}>{t("allocation.buffer_mode")}</label>
        <select id={id("buffer_mode")} value={form.buffer_mode} onChange={(e) => update("buffer_mode", e.target.value)}>
          {["static", "dynamic"].map((r) => <option key={r} value={r}>{t(`allocation.modes.${r}`)}</option>)}
        </select>
      </div>
      {NUMBER_FIELDS.map((field) => (
        <div key={field} className="field">
          <label htmlFor={id(field)}>{t(`allocation.${field}`)}</label>
          <input id={id(field)} name={field} inputMode="decimal" value={form[field]}
                 onChange={(e) => update(field, e.target.value)} aria-invalid={!!errors[field]}
                 aria-describedby={errors[field] ? id(`${field}-error`) : undefined} />
          {errors[field] && <span id={id(`${field}-error`)} className="field-error">{t(errors[field]!)}</span>}
        </div>
      ))}
      <div className="field">
        <label htmlFor={id("warehouses")}>{t("allocation.warehouses")}</label>
        <input id={id("warehouses")} value={form.warehouses} onChange={(e) => update("warehouses", e.target.value)}
               placeholder={t("allocation.allWarehouses")} />
      </div>
      <label className="check">
        <input type="checkbox" checked={form.sync} onChange={(e) => update("sync", e.target.checked)} />
        {t("allocation.sync")}
      </label>
      <fieldset className="presale">
        <legend>{t("allocation.presale")}</legend>
        <label className="check">
          <input type="checkbox" checked={form.presale_enabled}
                 onChange={(e) => update("presale_enabled", e.target.checked)} />
          {t("allocation.presale_enabled")}
        </label>
        <div className="field">
          <label htmlFor={id("presale_within_days")}>{t("allocation.presale_within_days")}</label>
          <input id={id("presale_within_days")} inputMode="numeric" value={form.presale_within_days}
                 disabled={!form.presale_enabled} onChange={(e) => update("presale_within_days", e.target.value)}
                 aria-invalid={!!errors.presale_within_days}
                 aria-describedby={errors.presale_within_days ? id("presale_within_days-error") : undefined} />
          {errors.presale_within_days &&
            <span id={id("presale_within_days-error")} className="field-error">{t(errors.presale_within_days)}</span>}
        </div>
      </fieldset>
      <button type="submit" disabled={busy}>{t("actions.save")}</button>
      {saved && <p role="status" className="saved">{t("allocation.saved")}</p>}
      {saveError ? <ErrorState error={saveError} /> : null}
    </form>
  );
}
