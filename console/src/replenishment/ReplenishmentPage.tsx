/** What to order, most urgent first (a stock-out inside the lead time, then the soonest stock-out): from whom, how
 * many, at what unit cost and for how much in all; the totals say how many suggestions have no cost. */
import { useState } from "react";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { Suggestion } from "../api/client";
import { useApp } from "../AppContext";
import { Badge } from "../components/Badge";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { fmtMoney, fmtNumber } from "../lib/format";
import { urgencyOrder } from "../lib/status";
import { can } from "../auth/roles";
import { CreatePurchaseOrders } from "./CreatePurchaseOrders";

/** The order cost of the suggestions that have one, and how many have none (their cost is unknown, not 0). */
export function orderTotals(rows: Suggestion[]): { total: number; costed: number; uncosted: number } {
  let total = 0;
  let costed = 0;
  for (const s of rows) {
    if (s.order_cost === null || s.order_cost === undefined) continue;
    total += s.order_cost;
    costed += 1;
  }
  return { total: Math.round(total * 100) / 100, costed, uncosted: rows.length - costed };
}

export function ReplenishmentPage() {
  const { t, i18n } = useTranslation();
  const { api, session } = useApp();
  const list = useLoad(async () => (await api.replenishment()).sort(urgencyOrder), [api]);
  const rows = list.data ?? [];
  const totals = orderTotals(rows);
  const buying = can(session?.roles, "buying");
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const toggle = (sku: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(sku); else next.delete(sku);
    setChosen(next);
  };
  const selectColumn = buying ? [{
    key: "select", label: t("replenishment.select"), exported: false,
    render: (s: Suggestion) => (
      <input type="checkbox" checked={chosen.has(s.sku)} data-select-sku={s.sku}
             aria-label={t("replenishment.selectSku", { sku: s.sku })} onChange={(e) => toggle(s.sku, e.target.checked)} />),
  }] : [];
  return (
    <section aria-labelledby="rep-title">
      <h1 id="rep-title">{t("replenishment.title")}</h1>
      {list.loading ? <Loading /> : list.error ? <ErrorState error={list.error} onRetry={list.reload} /> : (
        <>
          {rows.length > 0 && (
            <p className="note" data-order-total={totals.total}>
              {t("replenishment.total", { count: fmtNumber(totals.costed, i18n.language), total: fmtMoney(totals.total, i18n.language) })}
              {totals.uncosted > 0 && <> {t("replenishment.noCost", { count: fmtNumber(totals.uncosted, i18n.language) })}</>}
            </p>
          )}
          <DataTable<Suggestion> name="replenishment" caption={t("replenishment.title")} rows={rows}
                     rowKey={(s) => s.sku} empty={t("replenishment.empty")}
                     columns={[
                       ...selectColumn,
                       { key: "urgency", label: t("replenishment.urgency"), value: (s) => s.stockout_within_lead_time,
                         render: (s) => s.stockout_within_lead_time ? <Badge tone="bad">{t("replenishment.urgent")}</Badge>
                           : <Badge tone="muted">{t("replenishment.planned")}</Badge> },
                       { key: "sku", label: t("fields.sku"), render: (s) => <Link to={`/skus/${encodeURIComponent(s.sku)}`}>{s.sku}</Link> },
                       { key: "stockout_date", label: t("fields.stockout_date") },
                       { key: "supplier", label: t("fields.supplier") },
                       { key: "lead_time_days", label: t("fields.lead_time_days"), type: "number" },
                       { key: "moq", label: t("fields.moq"), type: "int", value: (s) => s.supplier_terms?.moq ?? null },
                       { key: "case_pack", label: t("fields.case_pack"), type: "int", value: (s) => s.supplier_terms?.case_pack ?? null },
                       { key: "suggested_order_qty", label: t("fields.suggested_order_qty"), type: "int" },
                       { key: "unit_cost", label: t("fields.unit_cost"), type: "money",
                         render: (s) => s.unit_cost === null || s.unit_cost === undefined ? "—" : (
                           <span title={s.unit_cost_source ? t(`replenishment.costSource.${s.unit_cost_source}`) : undefined}>
                             {fmtMoney(s.unit_cost, i18n.language)}</span>) },
                       { key: "order_cost", label: t("fields.order_cost"), type: "money" },
                       { key: "inventory_position", label: t("fields.inventory_position"), type: "number" },
                       { key: "reorder_point", label: t("fields.reorder_point"), type: "number" },
                       { key: "abc_class", label: t("fields.abc") },
                     ]} />
          {buying && rows.length > 0 && <CreatePurchaseOrders skus={rows.map((s) => s.sku).filter((sku) => chosen.has(sku))} />}
        </>
      )}
    </section>
  );
}
