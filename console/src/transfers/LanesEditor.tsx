/** The lanes between warehouses (transit days, cost per unit) and, for staff, a form to set one. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Lane } from "../api/client";
import { useApp } from "../AppContext";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { validateLane, type Errors, type LaneForm } from "./transferForms";

export function LanesEditor({ editable }: { editable: boolean }) {
  const { t } = useTranslation();
  const { api } = useApp();
  const loaded = useLoad(async () => {
    const [lanes, warehouses] = await Promise.all([api.lanes(), api.warehouses()]);
    return { lanes: lanes.lanes, warehouses };
  }, [api]);
  const [form, setForm] = useState<LaneForm>({ from: "", to: "", transit_days: "2", cost_per_unit: "" });
  const [errors, setErrors] = useState<Errors>({});
  const [state, setState] = useState<{ busy: boolean; error: unknown; saved: boolean }>({ busy: false, error: null, saved: false });
  if (loaded.loading && !loaded.data) return <Loading />;
  if (loaded.error) return <ErrorState error={loaded.error} onRetry={loaded.reload} />;
  const { lanes, warehouses } = loaded.data!;
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const checked = validateLane(form);
    if (!checked.ok) { setErrors(checked.errors); return; }
    setErrors({});
    setState({ busy: true, error: null, saved: false });
    try {
      await api.putLane(checked.from, checked.to, checked.body);
      setState({ busy: false, error: null, saved: true });
      loaded.reload();
    } catch (error) {
      setState({ busy: false, error, saved: false });
    }
  };
  const edit = (lane: Lane) => setForm({ from: lane.from_warehouse, to: lane.to_warehouse, transit_days: String(lane.transit_days),
    cost_per_unit: lane.cost_per_unit === null ? "" : String(lane.cost_per_unit) });
  const control = (key: keyof LaneForm, label: string) => {
    const id = `lane-${key}`;
    const common = { id, value: form[key], "aria-invalid": !!errors[key], "aria-describedby": errors[key] ? `${id}-error` : undefined,
      onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [key]: e.target.value }) };
    return (
      <div className="field" key={key}>
        <label htmlFor={id}>{label}</label>
        {key === "from" || key === "to" ? (
          <select {...common}>
            <option value="">{t("transfers.pickWarehouse")}</option>
            {warehouses.map((w) => <option key={w.warehouse_id} value={w.warehouse_id}>{w.name} ({w.warehouse_id})</option>)}
          </select>
        ) : <input {...common} inputMode="decimal" />}
        {errors[key] && <span id={`${id}-error`} className="field-error">{t(errors[key])}</span>}
      </div>
    );
  };
  return (
    <>
      <DataTable<Lane> name="transfer-lanes" caption={t("transfers.lanes")} rows={lanes}
                 rowKey={(l) => `${l.from_warehouse}>${l.to_warehouse}`} empty={t("transfers.noLanes")}
                 columns={[
                   { key: "from_warehouse", label: t("transfers.from") },
                   { key: "to_warehouse", label: t("transfers.to") },
                   { key: "transit_days", label: t("transfers.transitDays"), type: "number" },
                   { key: "cost_per_unit", label: t("transfers.costPerUnit"), type: "money" },
                   ...(editable ? [{ key: "edit", label: t("actions.edit"), exported: false,
                     render: (l: Lane) => <button type="button" onClick={() => edit(l)}>{t("actions.edit")}</button> }] : []),
                 ]} />
      {editable && (
        <form className="allocation" onSubmit={(e) => void submit(e)} noValidate aria-label={t("transfers.setLane")} data-form="lane">
          {control("from", t("transfers.from"))}
          {control("to", t("transfers.to"))}
          {control("transit_days", t("transfers.transitDays"))}
          {control("cost_per_unit", t("transfers.costPerUnitOptional"))}
          <button type="submit" disabled={state.busy}>{t("transfers.setLane")}</button>
          {state.saved && <p role="status" className="saved">{t("allocation.saved")}</p>}
          {state.error ? <ErrorState error={state.error} /> : null}
        </form>
      )}
    </>
  );
}
