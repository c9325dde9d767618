/** One SKU: stock per warehouse, every listing and why it shows its number, the ledger, the forecast, open alerts. */
import { useState } from "react";
import { useParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { Alert, ChannelListing, LedgerEntry } from "../api/client";
import { ApiError } from "../api/client";
import { useApp } from "../AppContext";
import { DataTable } from "../components/DataTable";
import { LevelBadge } from "../components/Badge";
import { Empty, ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { fmtNumber } from "../lib/format";
import { ForecastChart } from "./ForecastChart";
import { SkuSuppliers } from "./SkuSuppliers";
import { WhyBreakdown } from "./WhyBreakdown";
import { alertAction, alertTitle, allocationWhy } from "../alerts/texts";

export function SkuPage() {
  const { sku = "" } = useParams();
  const { t, i18n } = useTranslation();
  const { api } = useApp();
  const stock = useLoad(() => api.stock(sku), [api, sku]);
  const channels = useLoad(() => api.channels(sku), [api, sku]);
  const forecast = useLoad(() => api.forecast(sku), [api, sku]);
  const alerts = useLoad(async () => (await api.alerts("open")).filter((a) => a.sku === sku), [api, sku]);
  return (
    <section aria-labelledby="sku-title">
      <h1 id="sku-title">{t("sku.title", { sku })}</h1>

      <h2 id="stock">{t("sku.stock")}</h2>
      {stock.loading ? <Loading /> : stock.error ? <ErrorState error={stock.error} onRetry={stock.reload} /> : (
        <DataTable name={`${sku}-stock`} caption={t("sku.stock")} rowKey={(r) => r.warehouse_id}
                   rows={[...(stock.data?.warehouses ?? []), ...(stock.data ? [{ warehouse_id: t("sku.total"), ...stock.data.totals }] : [])]}
                   empty={t("sku.noStock")}
                   columns={[
                     { key: "warehouse_id", label: t("fields.warehouse") },
                     { key: "on_hand", label: t("fields.on_hand"), type: "int" },
                     { key: "reserved", label: t("fields.reserved"), type: "int" },
                     { key: "available", label: t("fields.available"), type: "int" },
                     { key: "in_transit", label: t("fields.in_transit"), type: "int" },
                   ]} />
      )}

      <h2>{t("sku.listings")}</h2>
      {channels.loading ? <Loading /> : channels.error ? <ErrorState error={channels.error} onRetry={channels.reload} /> : (
        <>
          {channels.data?.allocation && allocationWhy(channels.data.allocation, i18n.language, t) && (
            <p className="note" data-allocation-why>{t("sku.mode", {
              mode: t(`sku.modes.${channels.data.allocation.mode}`, { defaultValue: channels.data.allocation.mode ?? "" }),
              why: allocationWhy(channels.data.allocation, i18n.language, t) })}</p>
          )}
          <DataTable<ChannelListing> name={`${sku}-listings`} caption={t("sku.listings")} rows={channels.data?.listings ?? []}
                     rowKey={(r) => `${r.platform}/${r.shop}/${r.listing_id}`} empty={t("sku.noListings")}
                     columns={[
                       { key: "platform", label: t("fields.platform") },
                       { key: "shop", label: t("fields.shop") },
                       { key: "listing_id", label: t("fields.listing") },
                       { key: "rule", label: t("fields.rule") },
                       { key: "computed_qty", label: t("fields.computed"), type: "int" },
                       { key: "pushed_qty", label: t("fields.pushed"), type: "int" },
                       { key: "pushed_at", label: t("fields.pushed_at"), type: "time" },
                       { key: "shown", label: t("fields.shown"), type: "int" },
                       { key: "read_back_qty", label: t("fields.read_back"), type: "int" },
                       { key: "read_back_at", label: t("fields.read_back_at"), type: "time" },
                       { key: "in_sync", label: t("fields.in_sync"), render: (r) => r.in_sync === undefined || r.in_sync === null ? "—" : t(r.in_sync ? "common.yes" : "common.no") },
                       { key: "why", label: t("fields.why"), render: (r) => <WhyBreakdown listing={r} />,
                         value: (r) => r.explain ? JSON.stringify(r.explain) : null },
                     ]} />
        </>
      )}

      <h2 id="ledger">{t("sku.ledger")}</h2>
      <Ledger sku={sku} />

      <h2>{t("sku.forecast")}</h2>
      {forecast.loading ? <Loading /> : forecast.error ? (
        forecast.error instanceof ApiError && forecast.error.kind === "not_found"
          ? <Empty message={t("sku.noForecast")} /> : <ErrorState error={forecast.error} onRetry={forecast.reload} />
      ) : forecast.data && (
        <>
          <ForecastChart forecast={forecast.data} />
          <dl className="facts">
            <dt>{t("fields.safety_stock")}</dt><dd>{fmtNumber(forecast.data.safety_stock, "en", 1)}</dd>
            <dt>{t("fields.reorder_point")}</dt><dd>{fmtNumber(forecast.data.reorder_point, "en", 1)}</dd>
            <dt>{t("fields.stockout_date")}</dt><dd>{forecast.data.stockout_date ?? t("sku.noStockout")}</dd>
            <dt>{t("fields.method")}</dt><dd>{forecast.data.method ?? "—"}</dd>
          </dl>
          {!forecast.data.history?.some((v) => v !== 0) && <p className="note">{t("sku.noHistory")}</p>}
        </>
      )}

      <h2>{t("sku.suppliers")}</h2>
      <SkuSuppliers sku={sku} />

      <h2>{t("sku.alerts")}</h2>
      {alerts.loading ? <Loading /> : alerts.error ? <ErrorState error={alerts.error} onRetry={alerts.reload} /> : (
        <DataTable<Alert> name={`${sku}-alerts`} caption={t("sku.alerts")} rows={alerts.data ?? []} rowKey={(a) => a.id}
                   empty={t("sku.noAlerts")}
                   columns={[
                     { key: "level", label: t("fields.level"), render: (a) => <LevelBadge level={a.level} /> },
                     { key: "title", label: t("fields.title"), value: (a) => alertTitle(a, t) },
                     { key: "action", label: t("fields.action"), value: (a) => alertAction(a, i18n.language, t) },
                     { key: "since", label: t("fields.since"), type: "time" },
                   ]} />
      )}
    </section>
  );
}

const LEDGER_PAGE = 25;

function Ledger({ sku }: { sku: string }) {
  const { t, i18n } = useTranslation();
  const { api } = useApp();
  const [entries, setEntries] = useState<LedgerEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await api.ledger(sku, null, LEDGER_PAGE);
    setEntries(page.items);
    setNext(page.next);
    return page;
  }, [api, sku]);
  const [more, setMore] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const loadMore = async () => {
    setMore({ busy: true });
    try {
      const page = await api.ledger(sku, next, LEDGER_PAGE);
      setEntries((e) => [...e, ...page.items]);
      setNext(page.next);
      setMore({ busy: false });
    } catch (error) {
      setMore({ busy: false, error });
    }
  };
  if (first.loading) return <Loading />;
  if (first.error) return <ErrorState error={first.error} onRetry={first.reload} />;
  return (
    <>
      <DataTable<LedgerEntry> name={`${sku}-ledger`} caption={t("sku.ledger")} rows={entries} rowKey={(e) => e.entry_id}
                 empty={t("sku.noLedger")}
                 columns={[
                   { key: "created_at", label: t("fields.when"), type: "time" },
                   { key: "warehouse_id", label: t("fields.warehouse") },
                   { key: "movement", label: t("fields.movement"), render: (e) => t(`movement.${e.movement}`, { defaultValue: e.movement }) },
                   { key: "qty", label: t("fields.qty"), type: "int" },
                   { key: "on_hand_delta", label: t("fields.on_hand_delta"), type: "int" },
                   { key: "available_delta", label: t("fields.available_delta"), type: "int" },
                   { key: "actor", label: t("fields.actor") },
                   { key: "reason", label: t("fields.reason") },
                 ]} />
      {more.error ? <ErrorState error={more.error} /> : null}
      {next && (
        <button type="button" onClick={() => void loadMore()} disabled={more.busy}>
          {t("sku.moreLedger", { shown: fmtNumber(entries.length, i18n.language) })}
        </button>
      )}
    </>
  );
}
