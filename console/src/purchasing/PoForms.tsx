/** A purchase order's actions: status changes (with an optional note), shipping with an ETA and optional
 * per-line quantities, and receiving (partial, rejected units with a reason, over-receipt only when ticked). A
 * refusal shows the API's own words. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { PurchaseOrder } from "../api/client";
import { useApp } from "../AppContext";
import { ErrorState } from "../components/States";
import { isoDay } from "../lib/format";
import { receiptDefaults, validateReceipt, validateShip, type Errors, type PoAction, type ReceiptForm } from "./poRules";

/** The PO as the API answered, and what to tell the person (shown by the page: a form may be replaced). */
type Done = (po: PurchaseOrder, message: string) => void;

function useSubmit() {
  const [state, setState] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const run = async (call: () => Promise<unknown>) => {
    setState({ busy: true, error: null });
    try {
      await call();
      setState({ busy: false, error: null });
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return { ...state, run };
}

function FieldError({ id, errors, field }: { id: string; errors: Errors; field: string }) {
  const { t } = useTranslation();
  return errors[field] ? <span id={id} className="field-error">{t(errors[field])}</span> : null;
}

export function StatusActions({ po, actions, onDone }: { po: PurchaseOrder; actions: PoAction[]; onDone: Done }) {
  const { t } = useTranslation();
  const { api } = useApp();
  const [note, setNote] = useState("");
  const submit = useSubmit();
  const statuses = actions.flatMap((a) => (a.kind === "status" ? [a.status] : []));
  if (!statuses.length) return null;
  const change = (status: string) => submit.run(async () => {
    onDone(await api.poStatus(po.po_id, status, note.trim() || undefined),
      t("purchaseOrders.changed", { status: t(`purchaseOrders.status.${status}`) }));
    setNote("");
  });
  return (
    <div className="actions-row" role="group" aria-label={t("purchaseOrders.changeStatus")}>
      <label>
        {t("purchaseOrders.noteOptional")}
        <input value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
      </label>
      {statuses.map((s) => (
        <button key={s} type="button" disabled={submit.busy} data-po-action={s} onClick={() => void change(s)}>
          {t(`purchaseOrders.to.${s}`)}
        </button>
      ))}
      {submit.error ? <ErrorState error={submit.error} /> : null}
    </div>
  );
}

export function ShipForm({ po, onDone }: { po: PurchaseOrder; onDone: Done }) {
  const { t } = useTranslation();
  const { api } = useApp();
  const [eta, setEta] = useState(() => isoDay(new Date(Date.now() + 7 * 86_400_000)));
  const [qty, setQty] = useState<Record<number, string>>({});
  const [errors, setErrors] = useState<Errors>({});
  const submit = useSubmit();
  const send = (e: React.FormEvent) => {
    e.preventDefault();
    const checked = validateShip({ eta, qty }, po);
    if (!checked.ok) { setErrors(checked.errors); return; }
    setErrors({});
    void submit.run(async () => onDone(await api.shipPo(po.po_id, checked.body), t("purchaseOrders.shippedDone")));
  };
  return (
    <form className="po-form" onSubmit={send} noValidate aria-labelledby="ship-title" data-form="ship">
      <h3 id="ship-title">{t("purchaseOrders.ship")}</h3>
      <div className="field">
        <label htmlFor="ship-eta">{t("purchaseOrders.eta")}</label>
        <input id="ship-eta" type="date" value={eta} onChange={(e) => setEta(e.target.value)} aria-invalid={!!errors.eta}
               aria-describedby={errors.eta ? "ship-eta-error" : undefined} />
        <FieldError id="ship-eta-error" errors={errors} field="eta" />
      </div>
      <p className="help">{t("purchaseOrders.shipHelp")}</p>
      <div className="line-fields">
        {po.lines.map((l) => (
          <div key={l.line} className="field">
            <label htmlFor={`ship-qty-${l.line}`}>{t("purchaseOrders.shipLine", { line: l.line, sku: l.sku, qty: l.qty })}</label>
            <input id={`ship-qty-${l.line}`} inputMode="numeric" placeholder={String(l.qty)} value={qty[l.line] ?? ""}
                   onChange={(e) => setQty({ ...qty, [l.line]: e.target.value })} aria-invalid={!!errors[`qty-${l.line}`]}
                   aria-describedby={errors[`qty-${l.line}`] ? `ship-qty-${l.line}-error` : undefined} />
            <FieldError id={`ship-qty-${l.line}-error`} errors={errors} field={`qty-${l.line}`} />
          </div>
        ))}
      </div>
      {errors.form && <p className="field-error" role="alert">{t(errors.form)}</p>}
      <button type="submit" disabled={submit.busy}>{t("purchaseOrders.shipSubmit")}</button>
      {submit.error ? <ErrorState error={submit.error} /> : null}
    </form>
  );
}

export function ReceiveForm({ po, onDone }: { po: PurchaseOrder; onDone: Done }) {
  const { t } = useTranslation();
  const { api } = useApp();
  const [form, setForm] = useState<ReceiptForm>(() => receiptDefaults(po, new Date()));
  const [errors, setErrors] = useState<Errors>({});
  const submit = useSubmit();
  const setLine = (line: number, key: "received" | "rejected" | "reason", value: string) =>
    setForm({ ...form, lines: { ...form.lines, [line]: { ...(form.lines[line] ?? { received: "", rejected: "", reason: "" }), [key]: value } } });
  const send = (e: React.FormEvent) => {
    e.preventDefault();
    const checked = validateReceipt(form, po);
    if (!checked.ok) { setErrors(checked.errors); return; }
    setErrors({});
    void submit.run(async () => onDone(await api.receivePo(po.po_id, checked.body),
      t("purchaseOrders.receivedDone", { reference: checked.body.reference })));
  };
  const input = (line: number, key: "received" | "rejected" | "reason", label: string) => {
    const id = `recv-${key}-${line}`;
    const field = `${key}-${line}`;
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <input id={id} inputMode={key === "reason" ? "text" : "numeric"} value={form.lines[line]?.[key] ?? ""}
               onChange={(e) => setLine(line, key, e.target.value)} aria-invalid={!!errors[field]}
               aria-describedby={errors[field] ? `${id}-error` : undefined} />
        <FieldError id={`${id}-error`} errors={errors} field={field} />
      </div>
    );
  };
  return (
    <form className="po-form" onSubmit={send} noValidate aria-labelledby="receive-title" data-form="receive">
      <h3 id="receive-title">{t("purchaseOrders.receive")}</h3>
      <div className="field">
        <label htmlFor="recv-reference">{t("purchaseOrders.reference")}</label>
        <input id="recv-reference" value={form.reference} onChange={(e) => setForm({ ...form, reference: e.target.value })}
               aria-invalid={!!errors.reference} aria-describedby="recv-reference-help" />
        <span id="recv-reference-help" className="help">{t("purchaseOrders.referenceHelp")}</span>
        <FieldError id="recv-reference-error" errors={errors} field="reference" />
      </div>
      {po.lines.filter((l) => l.shipped > 0).map((l) => (   // a line that did not ship has nothing to receive
        <fieldset key={l.line} className="line-fields">
          <legend>{t("purchaseOrders.receiveLine", { line: l.line, sku: l.sku, onTheWay: l.on_the_way })}</legend>
          {input(l.line, "received", t("purchaseOrders.receivedQty"))}
          {input(l.line, "rejected", t("purchaseOrders.rejectedQty"))}
          {input(l.line, "reason", t("purchaseOrders.rejectReason"))}
        </fieldset>
      ))}
      <label className="check">
        <input type="checkbox" checked={form.acceptOver} data-accept-over
               onChange={(e) => setForm({ ...form, acceptOver: e.target.checked })} />
        {t("purchaseOrders.acceptOver")}
      </label>
      {errors.form && <p className="field-error" role="alert">{t(errors.form)}</p>}
      <button type="submit" disabled={submit.busy}>{t("purchaseOrders.receiveSubmit")}</button>
      {submit.error ? <ErrorState error={submit.error} /> : null}
    </form>
  );
}
