/** One purchase order: supplier, warehouse, lines (ordered, shipped, received, rejected, on the way, price,
 * promised date), history, total; the actions its state and the person's roles allow; export as XLSX and print. */
import { useState } from "react";
import { Link, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { HistoryEntry, PoLine, PurchaseOrder, SupplierRecord, Warehouse } from "../api/client";
import { useApp } from "../AppContext";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { download, fileName, XLSX_TYPE } from "../lib/export";
import { fmtMoney } from "../lib/format";
import { PoStatusBadge } from "./PoStatusBadge";
import { ReceiveForm, ShipForm, StatusActions } from "./PoForms";
import { poDocument, poXlsx } from "./poDocument";
import { lineAmount, poActions } from "./poRules";

export interface PoContext { po: PurchaseOrder; supplier: SupplierRecord | null; warehouse: Warehouse | null }

/** The PO with its supplier and warehouse (either may be unreadable: the PO is still shown). */
export function usePo(id: string) {
  const { api } = useApp();
  return useLoad<PoContext>(async () => {
    const [po, warehouses] = await Promise.all([api.purchaseOrder(id), api.warehouses().catch(() => [] as Warehouse[])]);
    const supplier = await api.supplier(po.supplier_id).catch(() => null);
    return { po, supplier, warehouse: warehouses.find((w) => w.warehouse_id === po.warehouse_id) ?? null };
  }, [api, id]);
}

export function PoDetailPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const loaded = usePo(id);
  return (
    <section aria-labelledby="po-detail-title">
      <p className="no-print"><Link to="/purchase-orders">{t("purchaseOrders.back")}</Link></p>
      <h1 id="po-detail-title">{t("purchaseOrders.detailTitle", { id })}</h1>
      {loaded.loading && !loaded.data ? <Loading /> : loaded.error ? <ErrorState error={loaded.error} onRetry={loaded.reload} />
        : loaded.data && <PoDetail context={loaded.data} />}
    </section>
  );
}

function PoDetail({ context }: { context: PoContext }) {
  const { t, i18n } = useTranslation();
  const { session } = useApp();
  const [po, setPo] = useState(context.po);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const done = (answer: PurchaseOrder, message: string) => { setPo(answer); setNotice(message); };
  const { supplier, warehouse } = context;
  const actions = poActions(po.status, session?.roles);
  const exportXlsx = async () => {
    setBusy(true);
    try {
      const doc = poDocument(po, supplier, warehouse, t);
      download(await poXlsx(doc, po.po_id), fileName(`po-${po.po_id}`, "xlsx"), XLSX_TYPE);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <dl className="facts" data-po={po.po_id}>
        <dt>{t("fields.status")}</dt><dd data-po-status={po.status}><PoStatusBadge status={po.status} /></dd>
        <dt>{t("fields.supplier")}</dt>
        <dd>{supplier ? <Link to={`/suppliers/${encodeURIComponent(supplier.supplier_id)}`}>{supplier.name}</Link> : po.supplier_id}</dd>
        <dt>{t("fields.warehouse")}</dt><dd>{warehouse ? `${warehouse.name} (${warehouse.warehouse_id})` : po.warehouse_id}</dd>
        <dt>{t("suppliers.currency")}</dt><dd>{po.currency ?? "—"}</dd>
        <dt>{t("purchaseOrders.eta")}</dt><dd>{po.eta ?? "—"}</dd>
        <dt>{t("purchaseOrders.total")}</dt><dd data-po-total={po.total}>{fmtMoney(po.total, i18n.language)}</dd>
        {po.note && <><dt>{t("purchaseOrders.note")}</dt><dd>{po.note}</dd></>}
      </dl>
      <div className="table-tools no-print">
        <button type="button" onClick={() => void exportXlsx()} disabled={busy} data-export="po-xlsx">
          {t("purchaseOrders.exportXlsx")}
        </button>
        <Link className="button" to={`/purchase-orders/${encodeURIComponent(po.po_id)}/print`} data-print-view>
          {t("purchaseOrders.printView")}
        </Link>
      </div>

      <h2>{t("purchaseOrders.lines")}</h2>
      <DataTable<PoLine> name={`po-${po.po_id}-lines`} caption={t("purchaseOrders.lines")} rows={po.lines}
                 rowKey={(l) => String(l.line)} empty={t("purchaseOrders.noLines")}
                 columns={[
                   { key: "line", label: t("purchaseOrders.line"), type: "int" },
                   { key: "sku", label: t("fields.sku"), render: (l) => <Link to={`/skus/${encodeURIComponent(l.sku)}`}>{l.sku}</Link> },
                   { key: "qty", label: t("purchaseOrders.ordered"), type: "int" },
                   { key: "shipped", label: t("purchaseOrders.shipped"), type: "int" },
                   { key: "received", label: t("purchaseOrders.received"), type: "int" },
                   { key: "rejected", label: t("purchaseOrders.rejected"), type: "int" },
                   { key: "on_the_way", label: t("purchaseOrders.onTheWay"), type: "int" },
                   { key: "unit_price", label: t("fields.unit_price"), type: "money" },
                   { key: "amount", label: t("purchaseOrders.amount"), type: "money", value: lineAmount },
                   { key: "promised_date", label: t("purchaseOrders.promised") },
                 ]} />

      {notice && <p role="status" className="saved" data-po-notice>{notice}</p>}
      {actions.length > 0 && (
        <div className="no-print">
          <h2>{t("purchaseOrders.actions")}</h2>
          <StatusActions po={po} actions={actions} onDone={done} />
          {actions.some((a) => a.kind === "ship") && <ShipForm po={po} onDone={done} />}
          {actions.some((a) => a.kind === "receive") && <ReceiveForm key={po.lines.map((l) => l.received + l.rejected).join()}
                                                                    po={po} onDone={done} />}
        </div>
      )}

      <h2>{t("purchaseOrders.history")}</h2>
      <DataTable<HistoryEntry & { n: number }> name={`po-${po.po_id}-history`} caption={t("purchaseOrders.history")}
                 rows={po.history.map((h, n) => ({ ...h, n }))} rowKey={(h) => String(h.n)} empty={t("purchaseOrders.noHistory")}
                 columns={[
                   { key: "at", label: t("fields.when"), type: "time" },
                   { key: "status", label: t("fields.status"), render: (h) => <PoStatusBadge status={h.status} /> },
                   { key: "by", label: t("fields.actor") },
                   { key: "note", label: t("purchaseOrders.note") },
                   { key: "eta", label: t("purchaseOrders.eta") },
                 ]} />
    </>
  );
}
