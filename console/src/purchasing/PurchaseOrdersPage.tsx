/** 采购单: purchase orders, newest first, filtered by status, in cursor pages; each opens its detail. */
import { Link, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { PurchaseOrder } from "../api/client";
import { useApp } from "../AppContext";
import { DataTable } from "../components/DataTable";
import { Pager, useCursorPages } from "../components/Pager";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { PoStatusBadge } from "./PoStatusBadge";
import { PO_STATUSES } from "./poRules";

const PAGE_SIZE = 50;

export function PurchaseOrdersPage() {
  const { t } = useTranslation();
  const { api } = useApp();
  const [params, setParams] = useSearchParams();
  const status = params.get("status") || null;
  const pages = useCursorPages(status ?? "");
  const list = useLoad(() => api.purchaseOrders(status, pages.cursor, PAGE_SIZE), [api, status, pages.cursor]);
  return (
    <section aria-labelledby="po-title">
      <h1 id="po-title">{t("purchaseOrders.title")}</h1>
      <div className="filters">
        <label>
          {t("fields.status")}
          <select value={status ?? ""} data-testid="po-status-filter"
                  onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {})}>
            <option value="">{t("purchaseOrders.anyStatus")}</option>
            {PO_STATUSES.map((s) => <option key={s} value={s}>{t(`purchaseOrders.status.${s}`)}</option>)}
          </select>
        </label>
      </div>
      {list.loading ? <Loading /> : list.error ? <ErrorState error={list.error} onRetry={list.reload} /> : (
        <>
          <DataTable<PurchaseOrder> name="purchase-orders" caption={t("purchaseOrders.title")} rows={list.data?.items ?? []}
                     rowKey={(po) => po.po_id} empty={status ? t("purchaseOrders.noneWithStatus") : t("purchaseOrders.empty")}
                     columns={[
                       { key: "po_id", label: t("purchaseOrders.po"),
                         render: (po) => <Link to={`/purchase-orders/${encodeURIComponent(po.po_id)}`}>{po.po_id}</Link> },
                       { key: "status", label: t("fields.status"), render: (po) => <PoStatusBadge status={po.status} /> },
                       { key: "supplier_id", label: t("fields.supplier") },
                       { key: "warehouse_id", label: t("fields.warehouse") },
                       { key: "lines", label: t("purchaseOrders.lines"), type: "int", value: (po) => po.lines.length },
                       { key: "units", label: t("purchaseOrders.ordered"), type: "int",
                         value: (po) => po.lines.reduce((n, l) => n + l.qty, 0) },
                       { key: "total", label: t("purchaseOrders.total"), type: "money" },
                       { key: "currency", label: t("suppliers.currency") },
                       { key: "eta", label: t("purchaseOrders.eta") },
                       { key: "created_at", label: t("purchaseOrders.created"), type: "time" },
                     ]} />
          <Pager pages={pages} next={list.data?.next} />
        </>
      )}
    </section>
  );
}
