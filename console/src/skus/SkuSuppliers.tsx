/** On a SKU's page: the suppliers quoting it, scored best first (price, speed, quality), the recommended one and
 * the one replenishment plans with. */
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { SkuSupplier } from "../api/client";
import { ApiError } from "../api/client";
import { useApp } from "../AppContext";
import { Badge } from "../components/Badge";
import { DataTable } from "../components/DataTable";
import { Empty, ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { fmtNumber, fmtPercent } from "../lib/format";

export function SkuSuppliers({ sku }: { sku: string }) {
  const { t, i18n } = useTranslation();
  const { api } = useApp();
  const found = useLoad(() => api.skuSuppliers(sku), [api, sku]);
  if (found.loading) return <Loading />;
  if (found.error) {
    return found.error instanceof ApiError && found.error.kind === "not_found"
      ? <Empty message={t("sku.noSuppliers")} /> : <ErrorState error={found.error} onRetry={found.reload} />;
  }
  const data = found.data!;
  return (
    <>
      <p className="note" data-recommended={data.recommended ?? ""}>
        {t("sku.supplierSummary", { recommended: data.recommended ?? "—", chosen: data.chosen ?? "—",
          qty: fmtNumber(data.reference_qty, i18n.language) })}
      </p>
      <DataTable<SkuSupplier> name={`${sku}-suppliers`} caption={t("sku.suppliers")} rows={data.suppliers}
                 rowKey={(s) => s.supplier_id} empty={t("sku.noSuppliers")}
                 columns={[
                   { key: "supplier_id", label: t("fields.supplier"), value: (s) => s.name,
                     render: (s) => (
                       <>
                         <Link to={`/suppliers/${encodeURIComponent(s.supplier_id)}`}>{s.name}</Link>
                         {s.supplier_id === data.recommended && <> <Badge tone="ok">{t("sku.recommended")}</Badge></>}
                         {s.supplier_id === data.chosen && <> <Badge tone="info">{t("sku.chosen")}</Badge></>}
                         {!s.active && <> <Badge tone="muted">{t("sku.retired")}</Badge></>}
                       </>) },
                   { key: "score", label: t("sku.score"), type: "number" },
                   { key: "unit_price", label: t("fields.unit_price"), type: "money" },
                   { key: "currency", label: t("suppliers.currency") },
                   { key: "order_qty", label: t("sku.orderQty"), type: "int" },
                   { key: "on_time", label: t("suppliers.onTime"), type: "percent", value: (s) => s.scorecard.blended.on_time_rate },
                   { key: "lead", label: t("fields.lead_time_days"), type: "number", value: (s) => s.quote.terms.lead_time_days },
                   { key: "reject", label: t("suppliers.quality"), type: "percent", value: (s) => s.scorecard.blended.reject_rate },
                   { key: "factors", label: t("sku.factors"),
                     value: (s) => s.factors ? t("sku.factorText", { price: fmtPercent(s.factors.price, "en"),
                       speed: fmtPercent(s.factors.speed, "en"), quality: fmtPercent(s.factors.quality, "en") }) : null },
                 ]} />
    </>
  );
}
