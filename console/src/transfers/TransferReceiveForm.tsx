/** Receiving a picked transfer: each line's count (all of it by default); a short line needs a loss reason. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Transfer } from "../api/client";
import { receiveDefaults, validateTransferReceipt, type Errors } from "./transferForms";

export function TransferReceiveForm({ transfer, busy, onSubmit, onCancel }: {
  transfer: Transfer; busy: boolean; onCancel: () => void;
  onSubmit: (lines: { line: number; received: number; loss_reason?: string }[]) => void;
}) {
  const { t } = useTranslation();
  const [form, setForm] = useState(() => receiveDefaults(transfer));
  const [errors, setErrors] = useState<Errors>({});
  const set = (line: number, key: "received" | "reason", value: string) =>
    setForm({ ...form, [line]: { ...form[line], [key]: value } });
  const send = (e: React.FormEvent) => {
    e.preventDefault();
    const checked = validateTransferReceipt(form, transfer);
    if (!checked.ok) { setErrors(checked.errors); return; }
    setErrors({});
    onSubmit(checked.lines);
  };
  return (
    <form className="po-form" onSubmit={send} noValidate aria-labelledby="tr-receive-title" data-form="transfer-receive">
      <h3 id="tr-receive-title">{t("transfers.receiveTitle", { id: transfer.transfer_id, to: transfer.to_warehouse })}</h3>
      {transfer.lines.map((l) => (
        <fieldset key={l.line} className="line-fields">
          <legend>{t("transfers.receiveLine", { line: l.line, sku: l.sku, qty: l.qty })}</legend>
          {(["received", "reason"] as const).map((key) => {
            const id = `tr-${key}-${l.line}`;
            const field = `${key}-${l.line}`;
            return (
              <div key={key} className="field">
                <label htmlFor={id}>{t(key === "received" ? "transfers.receivedQty" : "transfers.lossReason")}</label>
                <input id={id} value={form[l.line]?.[key] ?? ""} onChange={(e) => set(l.line, key, e.target.value)}
                       inputMode={key === "received" ? "numeric" : "text"} aria-invalid={!!errors[field]}
                       aria-describedby={errors[field] ? `${id}-error` : undefined} />
                {errors[field] && <span id={`${id}-error`} className="field-error">{t(errors[field])}</span>}
              </div>
            );
          })}
        </fieldset>
      ))}
      <div className="actions-row">
        <button type="submit" disabled={busy}>{t("transfers.receiveSubmit")}</button>
        <button type="button" onClick={onCancel}>{t("transfers.close")}</button>
      </div>
    </form>
  );
}
