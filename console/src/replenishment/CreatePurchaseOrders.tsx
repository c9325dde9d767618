/** Suggestions chosen on the replenishment page become draft purchase orders (one per supplier, quantities
 * rounded by the API to MOQ, price breaks and case packs) for a warehouse, optionally all from one supplier;
 * the drafts made are linked. */
import { useState } from "react";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { PurchaseOrder } from "../api/client";
import { useApp } from "../AppContext";
import { ErrorState } from "../components/States";
import { useLoad } from "../components/useLoad";
import { fmtMoney } from "../lib/format";

/** The request for the chosen SKUs (the API takes at most 30 at once). */
export function fromSuggestionsBody(skus: string[], warehouseId: string, supplierId: string):
  { ok: true; body: { warehouse_id: string; skus: string[]; supplier_id?: string } } | { ok: false; error: string } {
  if (!skus.length) return { ok: false, error: "replenishment.pickSome" };
  if (skus.length > 30) return { ok: false, error: "replenishment.tooMany" };
  if (!warehouseId) return { ok: false, error: "replenishment.pickWarehouse" };
  return { ok: true, body: { warehouse_id: warehouseId, skus, ...(supplierId ? { supplier_id: supplierId } : {}) } };
}

export function CreatePurchaseOrders({ skus }: { skus: string[] }) {
  const { t, i18n } = useTranslation();
  const { api } = useApp();
  const options = useLoad(async () => {
    const [warehouses, suppliers] = await Promise.all([api.warehouses(), api.suppliers(true)]);
    return { warehouses, suppliers };
  }, [api]);
  const [warehouse, setWarehouse] = useState("");
  const [supplier, setSupplier] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [state, setState] = useState<{ busy: boolean; error: unknown; made: PurchaseOrder[] }>({ busy: false, error: null, made: [] });
  const warehouseId = warehouse || options.data?.warehouses[0]?.warehouse_id || "";
  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    const checked = fromSuggestionsBody(skus, warehouseId, supplier);
    if (!checked.ok) { setProblem(checked.error); return; }
    setProblem(null);
    setState({ busy: true, error: null, made: [] });
    try {
      const answer = await api.posFromSuggestions(checked.body);
      setState({ busy: false, error: null, made: answer.purchase_orders });
    } catch (error) {
      setState({ busy: false, error, made: [] });
    }
  };
  return (
    <form className="po-form" onSubmit={(e) => void create(e)} noValidate aria-labelledby="create-po-title" data-form="from-suggestions">
      <h2 id="create-po-title">{t("replenishment.createTitle")}</h2>
      <p className="help">{t("replenishment.createHelp", { count: skus.length })}</p>
      {options.error ? <ErrorState error={options.error} onRetry={options.reload} /> : (
        <div className="actions-row">
          <label>
            {t("fields.warehouse")}
            <select value={warehouseId} onChange={(e) => setWarehouse(e.target.value)} data-testid="po-warehouse">
              {(options.data?.warehouses ?? []).map((w) => <option key={w.warehouse_id} value={w.warehouse_id}>{w.name} ({w.warehouse_id})</option>)}
            </select>
          </label>
          <label>
            {t("replenishment.supplierOverride")}
            <select value={supplier} onChange={(e) => setSupplier(e.target.value)} data-testid="po-supplier">
              <option value="">{t("replenishment.eachChosen")}</option>
              {(options.data?.suppliers ?? []).map((s) => <option key={s.supplier_id} value={s.supplier_id}>{s.name}</option>)}
            </select>
          </label>
          <button type="submit" disabled={state.busy || options.loading} data-create-pos>{t("replenishment.create")}</button>
        </div>
      )}
      {problem && <p className="field-error" role="alert">{t(problem)}</p>}
      {state.error ? <ErrorState error={state.error} /> : null}
      {state.made.length > 0 && (
        <div role="status" className="saved" data-made>
          <p>{t("replenishment.made", { count: state.made.length })}</p>
          <ul>
            {state.made.map((po) => (
              <li key={po.po_id}>
                <Link to={`/purchase-orders/${encodeURIComponent(po.po_id)}`} data-made-po={po.po_id}>{po.po_id}</Link>
                {" "}{t("replenishment.madeLine", { supplier: po.supplier_id, lines: po.lines.length,
                  total: fmtMoney(po.total, i18n.language), currency: po.currency ?? "" })}
              </li>
            ))}
          </ul>
        </div>
      )}
    </form>
  );
}
