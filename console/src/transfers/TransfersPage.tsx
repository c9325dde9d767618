/** 调拨: suggestions (from → to, quantity, cost, the stock-out it prevents) made into a transfer in one click;
 * the transfers with pick / receive (short lines with a loss reason) / cancel; the lanes between warehouses. */
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { Transfer, TransferSuggestion } from "../api/client";
import { useApp } from "../AppContext";
import { can } from "../auth/roles";
import { DataTable } from "../components/DataTable";
import { Pager, useCursorPages } from "../components/Pager";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { PoStatusBadge } from "../purchasing/PoStatusBadge";
import { LanesEditor } from "./LanesEditor";
import { TransferReceiveForm } from "./TransferReceiveForm";
import { transferActions, transferFromSuggestion } from "./transferForms";

const STATUSES = ["draft", "picked", "received", "cancelled"] as const;

export function TransfersPage() {
  const { t } = useTranslation();
  const { api, session } = useApp();
  const staff = can(session?.roles, "staff");
  const [params, setParams] = useSearchParams();
  const status = params.get("status") || null;
  const pages = useCursorPages(status ?? "");
  const [version, setVersion] = useState(0);            // bumped after every change: both lists read again
  const suggestions = useLoad(() => api.transferSuggestions(), [api, version]);
  const list = useLoad(() => api.transfers(status, pages.cursor), [api, status, pages.cursor, version]);
  const [action, setAction] = useState<{ busy: boolean; error: unknown; done: string | null }>({ busy: false, error: null, done: null });
  const [receiving, setReceiving] = useState<Transfer | null>(null);
  const run = async (call: () => Promise<Transfer>, done: (tr: Transfer) => string) => {
    setAction({ busy: true, error: null, done: null });
    try {
      const tr = await call();
      setAction({ busy: false, error: null, done: done(tr) });
      setReceiving(null);
      setVersion((v) => v + 1);
    } catch (error) {
      setAction({ busy: false, error, done: null });
    }
  };
  const create = (s: TransferSuggestion) => run(() => api.createTransfer(transferFromSuggestion(s)),
    (tr) => t("transfers.created", { id: tr.transfer_id }));
  return (
    <section aria-labelledby="transfers-title">
      <h1 id="transfers-title">{t("transfers.title")}</h1>
      {action.done && <p role="status" className="saved" data-transfer-done>{action.done}</p>}
      {action.error ? <ErrorState error={action.error} /> : null}

      <h2>{t("transfers.suggestions")}</h2>
      {suggestions.loading ? <Loading /> : suggestions.error ? <ErrorState error={suggestions.error} onRetry={suggestions.reload} /> : (
        <DataTable<TransferSuggestion> name="transfer-suggestions" caption={t("transfers.suggestions")}
                   rows={suggestions.data?.suggestions ?? []} rowKey={(s) => `${s.sku}/${s.from_warehouse}/${s.to_warehouse}`}
                   empty={t("transfers.noSuggestions")}
                   columns={[
                     { key: "sku", label: t("fields.sku"), render: (s) => <Link to={`/skus/${encodeURIComponent(s.sku)}`}>{s.sku}</Link> },
                     { key: "from_warehouse", label: t("transfers.from") },
                     { key: "to_warehouse", label: t("transfers.to") },
                     { key: "qty", label: t("fields.qty"), type: "int" },
                     { key: "transit_days", label: t("transfers.transitDays"), type: "number" },
                     { key: "total_cost", label: t("transfers.cost"), type: "money" },
                     { key: "prevents_stockout_on", label: t("transfers.prevents") },
                     { key: "days_of_cover_before", label: t("transfers.coverBefore"), type: "number" },
                     { key: "days_of_cover_after", label: t("transfers.coverAfter"), type: "number" },
                     { key: "lane_configured", label: t("transfers.lane"), render: (s) => t(s.lane_configured ? "common.yes" : "transfers.defaultLane") },
                     ...(staff ? [{ key: "create", label: t("transfers.action"), exported: false,
                       render: (s: TransferSuggestion) => (
                         <button type="button" disabled={action.busy} data-create-transfer={s.sku} onClick={() => void create(s)}
                                 aria-label={t("transfers.createFor", { sku: s.sku, from: s.from_warehouse, to: s.to_warehouse })}>
                           {t("transfers.create")}</button>) }] : []),
                   ]} />
      )}

      <h2>{t("transfers.list")}</h2>
      <div className="filters">
        <label>
          {t("fields.status")}
          <select value={status ?? ""} onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {})}>
            <option value="">{t("purchaseOrders.anyStatus")}</option>
            {STATUSES.map((s) => <option key={s} value={s}>{t(`transfers.status.${s}`)}</option>)}
          </select>
        </label>
      </div>
      {list.loading ? <Loading /> : list.error ? <ErrorState error={list.error} onRetry={list.reload} /> : (
        <>
          <DataTable<Transfer> name="transfers" caption={t("transfers.list")} rows={list.data?.items ?? []}
                     rowKey={(tr) => tr.transfer_id} empty={t("transfers.empty")}
                     columns={[
                       { key: "transfer_id", label: t("transfers.id") },
                       { key: "status", label: t("fields.status"), render: (tr) => <PoStatusBadge status={tr.status} family="transfers" /> },
                       { key: "from_warehouse", label: t("transfers.from") },
                       { key: "to_warehouse", label: t("transfers.to") },
                       { key: "lines", label: t("transfers.lines"),
                         value: (tr) => tr.lines.map((l) => `${l.sku} × ${l.qty}${l.lost ? ` (−${l.lost})` : ""}`).join(", ") },
                       { key: "eta", label: t("purchaseOrders.eta") },
                       { key: "created_at", label: t("purchaseOrders.created"), type: "time" },
                       ...(staff ? [{ key: "actions", label: t("transfers.action"), exported: false,
                         render: (tr: Transfer) => (
                           <span className="actions-row">
                             {transferActions(tr.status).map((a) => (
                               <button key={a} type="button" disabled={action.busy} data-transfer-action={`${tr.transfer_id}:${a}`}
                                       onClick={() => a === "receive" ? setReceiving(tr)
                                         : void run(() => api.transferAction(tr.transfer_id, a), (x) => t(`transfers.done.${a}`, { id: x.transfer_id }))}>
                                 {t(`transfers.actions.${a}`)}</button>
                             ))}
                           </span>) }] : []),
                     ]} />
          <Pager pages={pages} next={list.data?.next} />
        </>
      )}
      {receiving && (
        <TransferReceiveForm key={receiving.transfer_id} transfer={receiving} busy={action.busy} onCancel={() => setReceiving(null)}
                             onSubmit={(lines) => void run(() => api.receiveTransfer(receiving.transfer_id, lines),
                               (x) => t("transfers.done.receive", { id: x.transfer_id }))} />
      )}

      <h2>{t("transfers.lanes")}</h2>
      <LanesEditor editable={staff} />
    </section>
  );
}
