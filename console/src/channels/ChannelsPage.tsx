/** Per shop: sync health and allocation (editable); inbound events that need a person. */
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { ChannelListing, InboundEvent, Shop } from "../api/client";
import { useApp } from "../AppContext";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { AllocationForm } from "./AllocationForm";

export const PLATFORMS = ["shopify", "tiktok", "shopee", "lazada", "woocommerce"];

export function ChannelsPage() {
  const { t } = useTranslation();
  const { api } = useApp();
  const [params, setParams] = useSearchParams();
  const platform = params.get("platform") ?? "";
  const shop = params.get("shop") ?? "";
  const shops = useLoad(() => api.shops(), [api]);
  const unmapped = useLoad(() => api.events("unmapped"), [api]);
  const oversold = useLoad(() => api.events("oversold"), [api]);
  const [pick, setPick] = useState({ platform: platform || PLATFORMS[0], shop });
  const open = (p: string, s: string) => setParams({ platform: p, shop: s });
  const eventColumns = [
    { key: "platform", label: t("fields.platform") },
    { key: "shop", label: t("fields.shop") },
    { key: "order_id", label: t("fields.order") },
    { key: "kind", label: t("fields.kind") },
    { key: "received_at", label: t("fields.received_at"), type: "time" as const },
    { key: "event_key", label: t("fields.event") },
  ];
  return (
    <section aria-labelledby="ch-title">
      <h1 id="ch-title">{t("channels.title")}</h1>
      <h2>{t("channels.health")}</h2>
      {shops.loading ? <Loading /> : shops.error ? <ErrorState error={shops.error} onRetry={shops.reload} /> : (
        <DataTable<Shop> name="shops" caption={t("channels.health")} rows={shops.data ?? []} rowKey={(s) => `${s.platform}/${s.shop}`}
                   empty={t("channels.noShops")}
                   columns={[
                     { key: "platform", label: t("fields.platform") },
                     { key: "shop", label: t("fields.shop") },
                     { key: "rule", label: t("fields.rule") },
                     { key: "last_push_at", label: t("fields.last_push_at"), type: "time", value: (s) => s.health?.last_push_at,
                       render: (s) => <Time value={s.health?.last_push_at} /> },
                     { key: "failures", label: t("fields.failures"), type: "int", value: (s) => s.health?.failures, render: (s) => s.health?.failures ?? "—" },
                     { key: "in_sync", label: t("fields.in_sync_of"), value: (s) => s.health?.in_sync,
                       render: (s) => s.health ? `${s.health.in_sync} / ${s.health.listings}` : "—" },
                     { key: "rate_limit_use", label: t("fields.rate_limit_use"), type: "percent", value: (s) => s.health?.rate_limit_use,
                       render: (s) => <Pct value={s.health?.rate_limit_use} /> },
                     { key: "reconciliation_accuracy", label: t("fields.reconciliation_accuracy"), type: "percent",
                       value: (s) => s.health?.reconciliation_accuracy, render: (s) => <Pct value={s.health?.reconciliation_accuracy} /> },
                     { key: "needs_person", label: t("fields.needs_person"), type: "int", value: (s) => s.health?.needs_person,
                       render: (s) => s.health?.needs_person ?? "—" },
                     { key: "edit", label: t("channels.allocation"), value: () => null,
                       render: (s) => <button type="button" onClick={() => open(s.platform, s.shop)}>{t("actions.edit")}</button> },
                     { key: "connect", label: t("channels.connect"), value: () => null, exported: false,
                       render: (s) => <Link to={`/connect?platform=${encodeURIComponent(s.platform)}&shop=${encodeURIComponent(s.shop)}`}
                                            data-connect={`${s.platform}/${s.shop}`}>{t("channels.connectLink")}</Link> },
                   ]} />
      )}

      <h2>{t("channels.allocation")}</h2>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); if (pick.shop.trim()) open(pick.platform, pick.shop.trim()); }}>
        <label>{t("fields.platform")}
          <select value={pick.platform} onChange={(e) => setPick({ ...pick, platform: e.target.value })} name="platform">
            {PLATFORMS.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </label>
        <label>{t("fields.shop")}
          <input value={pick.shop} onChange={(e) => setPick({ ...pick, shop: e.target.value })} name="shop" />
        </label>
        <button type="submit">{t("actions.open")}</button>
      </form>
      {platform && shop ? (
        <>
          <AllocationForm key={`${platform}/${shop}`} platform={platform} shop={shop} />
          <h3>{t("channels.listingsOf", { platform, shop })}</h3>
          <ShopListings platform={platform} shop={shop} />
        </>
      ) : <p className="note">{t("channels.pickShop")}</p>}

      <h2>{t("channels.needsPerson")}</h2>
      {[["unmapped", unmapped], ["oversold", oversold]].map(([status, loaded]) => {
        const l = loaded as typeof unmapped;
        const name = status as string;
        return (
          <div key={name}>
            <h3>{t(`channels.events.${name}`)}</h3>
            {l.loading ? <Loading /> : l.error ? <ErrorState error={l.error} onRetry={l.reload} /> : (
              <DataTable<InboundEvent> name={`events-${name}`} caption={t(`channels.events.${name}`)} rows={l.data ?? []}
                         rowKey={(e) => e.event_key} empty={t("channels.noEvents")} columns={eventColumns} />
            )}
          </div>
        );
      })}
    </section>
  );
}

function ShopListings({ platform, shop }: { platform: string; shop: string }) {
  const { t } = useTranslation();
  const { api } = useApp();
  const listings = useLoad(() => api.listings(platform, shop), [api, platform, shop]);
  if (listings.loading) return <Loading />;
  if (listings.error) return <ErrorState error={listings.error} onRetry={listings.reload} />;
  return (
    <DataTable<ChannelListing> name={`listings-${platform}-${shop}`} caption={t("channels.listingsOf", { platform, shop })}
               rows={listings.data ?? []} rowKey={(l) => l.listing_id} empty={t("channels.noListings")}
               columns={[
                 { key: "listing_id", label: t("fields.listing") },
                 { key: "components", label: t("fields.sku"), value: (l) => (l.components ?? []).map((c) => `${c.sku}×${c.qty}`).join(" + "),
                   render: (l) => (l.components ?? []).map((c) => `${c.sku}×${c.qty}`).join(" + ") },
                 { key: "rule", label: t("fields.rule") },
                 { key: "computed_qty", label: t("fields.computed"), type: "int" },
                 { key: "pushed_qty", label: t("fields.pushed"), type: "int" },
                 { key: "shown", label: t("fields.shown"), type: "int" },
                 { key: "read_back_qty", label: t("fields.read_back"), type: "int" },
                 { key: "in_sync", label: t("fields.in_sync"), value: (l) => l.in_sync ?? null,
                   render: (l) => (l.in_sync === null || l.in_sync === undefined ? "—" : t(l.in_sync ? "common.yes" : "common.no")) },
                 { key: "status", label: t("fields.status") },
                 { key: "error", label: t("fields.error") },
               ]} />
  );
}

function Time({ value }: { value: number | null | undefined }) {
  const { i18n } = useTranslation();
  return <>{value ? new Date(value < 1e11 ? value * 1000 : value).toLocaleString(i18n.language) : "—"}</>;
}

function Pct({ value }: { value: number | null | undefined }) {
  return <>{value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)} %`}</>;
}
