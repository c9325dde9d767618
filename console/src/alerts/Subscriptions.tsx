import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Subscription } from "../api/client";
import { useApp } from "../AppContext";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { PROTOCOLS, validateSubscription, type FieldErrors } from "../lib/validation";

const BLANK = { id: "", protocol: "email", endpoint: "", name: "" };

export function Subscriptions() {
  const { t } = useTranslation();
  const { api } = useApp();
  const subs = useLoad(() => api.subscriptions(), [api]);
  const [form, setForm] = useState(BLANK);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setFailure(null);
    try { await work(); subs.reload(); return true; } catch (err) { setFailure(err); return false; } finally { setBusy(false); }
  };
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const found = validateSubscription(form);
    setErrors(found);
    if (Object.keys(found).length) return;
    const body = { protocol: form.protocol, endpoint: form.endpoint.trim(), ...(form.name.trim() ? { name: form.name.trim() } : {}) };
    if (await run(() => api.putSubscription(form.id.trim(), body))) setForm(BLANK);
  };
  const field = (key: keyof typeof BLANK, input: React.ReactNode) => (
    <div className="field">
      <label htmlFor={`sub-${key}`}>{t(`subscriptions.${key}`)}</label>
      {input}
      {errors[key] && <span className="field-error" id={`sub-${key}-error`}>{t(errors[key]!)}</span>}
    </div>
  );
  const text = (key: keyof typeof BLANK) => (
    <input id={`sub-${key}`} value={form[key]} onChange={(e) => setForm({ ...form, [key]: e.target.value })}
           aria-invalid={!!errors[key]} aria-describedby={errors[key] ? `sub-${key}-error` : undefined} />
  );
  return (
    <>
      {subs.loading ? <Loading /> : subs.error ? <ErrorState error={subs.error} onRetry={subs.reload} /> : (
        <DataTable<Subscription> name="subscriptions" caption={t("alerts.subscriptions")} rows={subs.data ?? []}
                   rowKey={(s) => s.id} empty={t("subscriptions.empty")}
                   columns={[
                     { key: "id", label: t("subscriptions.id") },
                     { key: "protocol", label: t("subscriptions.protocol") },
                     { key: "name", label: t("subscriptions.name") },
                     { key: "remove", label: t("actions.delete"), value: () => null,
                       render: (s) => <button type="button" disabled={busy} onClick={() => void run(() => api.deleteSubscription(s.id))}>{t("actions.delete")}</button> },
                   ]} />
      )}
      <form className="subscription" onSubmit={(e) => void submit(e)} noValidate aria-label={t("subscriptions.add")}>
        {field("id", text("id"))}
        {field("protocol", (
          <select id="sub-protocol" value={form.protocol} onChange={(e) => setForm({ ...form, protocol: e.target.value })}>
            {PROTOCOLS.map((p) => <option key={p} value={p}>{t(`subscriptions.protocols.${p}`)}</option>)}
          </select>
        ))}
        {field("endpoint", text("endpoint"))}
        {field("name", text("name"))}
        <button type="submit" disabled={busy}>{t("subscriptions.add")}</button>
      </form>
      {failure ? <ErrorState error={failure} /> : null}
    </>
  );
}
