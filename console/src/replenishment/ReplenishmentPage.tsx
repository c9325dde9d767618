/** What to order, most urgent first: a stock-out inside the lead time, then the soonest stock-out. */
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { Suggestion } from "../api/client";
import { useApp } from "../AppContext";
import { Badge } from "../components/Badge";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { urgencyOrder } from "../lib/status";

export function ReplenishmentPage() {
  const { t } = useTranslation();
  const { api } = useApp();
  const list = useLoad(async () => (await api.replenishment()).sort(urgencyOrder), [api]);
  return (
    <section aria-labelledby="rep-title">
      <h1 id="rep-title">{t("replenishment.title")}</h1>
      {list.loading ? <Loading /> : list.error ? <ErrorState error={list.error} onRetry={list.reload} /> : (
        <DataTable<Suggestion> name="replenishment" caption={t("replenishment.title")} rows={list.data ?? []}
                   rowKey={(s) => s.sku} empty={t("replenishment.empty")}
                   columns={[
                     { key: "urgency", label: t("replenishment.urgency"), value: (s) => s.stockout_within_lead_time,
                       render: (s) => s.stockout_within_lead_time ? <Badge tone="bad">{t("replenishment.urgent")}</Badge>
                         : <Badge tone="muted">{t("replenishment.planned")}</Badge> },
                     { key: "sku", label: t("fields.sku"), render: (s) => <Link to={`/skus/${encodeURIComponent(s.sku)}`}>{s.sku}</Link> },
                     { key: "stockout_date", label: t("fields.stockout_date") },
                     { key: "lead_time_days", label: t("fields.lead_time_days"), type: "number" },
                     { key: "suggested_order_qty", label: t("fields.suggested_order_qty"), type: "int" },
                     { key: "supplier", label: t("fields.supplier") },
                     { key: "order_unit_cost", label: t("fields.unit_cost"), type: "money" },
                     { key: "order_cost", label: t("fields.order_cost"), type: "money",
                       value: (s) => s.order_unit_cost === null ? null : Math.round(s.order_unit_cost * s.suggested_order_qty * 100) / 100 },
                     { key: "inventory_position", label: t("fields.inventory_position"), type: "number" },
                     { key: "reorder_point", label: t("fields.reorder_point"), type: "number" },
                     { key: "abc_class", label: t("fields.abc") },
                   ]} />
      )}
    </section>
  );
}
