/** 连接商品: per shop, discover its listings on the platform, see how they map to master SKUs (mapped, unmapped
 * with suggestions, conflicts), settle the unmapped and the conflicts with an explicit mapping (a new discovery
 * takes it), apply the mapped ones, then choose their first sync: push StockLink's numbers, or take the
 * platform's as a warehouse's opening count — for the whole shop or the listings ticked. */
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { Component, DiscoveredListing, DiscoveryJob, FirstSyncBody, FirstSyncRow } from "../api/client";
import { useApp } from "../AppContext";
import { can } from "../auth/roles";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useJobPolling } from "../components/useJobPolling";
import { useLoad } from "../components/useLoad";
import { componentsText, firstSyncBody, isWorking, mappingFrom, pendingRows, type Picks } from "./discoveryRules";

export function ConnectListingsPage({ pollMs = 800 }: { pollMs?: number }) {
  const { t } = useTranslation();
  const { api } = useApp();
  const [params, setParams] = useSearchParams();
  const platform = params.get("platform") ?? "";
  const shop = params.get("shop") ?? "";
  const shops = useLoad(() => api.shops(), [api]);
  const choose = (value: string) => {
    const [p, ...rest] = value.split("/");
    setParams(value ? { platform: p, shop: rest.join("/") } : {});
  };
  return (
    <section aria-labelledby="connect-title">
      <h1 id="connect-title">{t("discovery.title")}</h1>
      <p className="note">{t("discovery.intro")}</p>
      {shops.loading ? <Loading /> : shops.error ? <ErrorState error={shops.error} onRetry={shops.reload} /> : (
        <div className="filters">
          <label>{t("fields.shop")}
            <select value={platform ? `${platform}/${shop}` : ""} onChange={(e) => choose(e.target.value)} data-testid="connect-shop">
              <option value="">{t("discovery.pickShop")}</option>
              {(shops.data ?? []).map((s) => <option key={`${s.platform}/${s.shop}`} value={`${s.platform}/${s.shop}`}>{s.platform} / {s.shop}</option>)}
            </select>
          </label>
        </div>
      )}
      {platform && shop ? (
        <ShopDiscovery key={`${platform}/${shop}`} platform={platform} shop={shop} pollMs={pollMs}
                       discoveryId={params.get("discovery")}
                       onDiscovery={(id) => setParams({ platform, shop, discovery: id }, { replace: true })} />
      ) : null}
    </section>
  );
}

export function ShopDiscovery({ platform, shop, discoveryId, onDiscovery, pollMs }: {
  platform: string; shop: string; discoveryId: string | null; onDiscovery: (id: string) => void; pollMs: number;
}) {
  const { t } = useTranslation();
  const { api, session } = useApp();
  const staff = can(session?.roles, "staff");
  const [job, setJob] = useState<DiscoveryJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [mapping, setMapping] = useState<Record<string, Component[]>>({});
  const polling = useJobPolling(job, setJob, (j) => api.discovery(platform, shop, j.discovery_id), isWorking, pollMs);
  useEffect(() => {     // a discovery named in the address (a reload, a link): read it once
    if (!discoveryId || job) return;
    api.discovery(platform, shop, discoveryId).then(setJob, setError);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [discoveryId]);
  const act = async (call: () => Promise<DiscoveryJob>) => {
    setBusy(true);
    setError(null);
    try {
      const next = await call();
      setJob(next);
      if (next.discovery_id !== job?.discovery_id) onDiscovery(next.discovery_id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const discover = (more: Record<string, Component[]>) => {
    setMapping(more);
    void act(() => api.discover(platform, shop, more));
  };
  return (
    <div data-discovery-shop={`${platform}/${shop}`}>
      <h2>{t("discovery.shopTitle", { platform, shop })}</h2>
      {staff && (
        <button type="button" disabled={busy || (job !== null && isWorking(job))} data-start-discovery onClick={() => discover(mapping)}>
          {job ? t("discovery.again") : t("discovery.start")}</button>)}
      {error ? <ErrorState error={error} /> : null}
      {polling.error ? <ErrorState error={polling.error} onRetry={polling.retry} /> : null}
      {job && <JobView job={job} staff={staff} busy={busy}
                       onRemap={(picks) => discover(mappingFrom(mapping, picks))}
                       onApply={() => void act(() => api.applyDiscovery(platform, shop, job.discovery_id))}
                       onChoose={(body) => void act(() => api.firstSync(platform, shop, job.discovery_id, body))} />}
    </div>
  );
}

function Progress({ job }: { job: DiscoveryJob }) {
  const { t } = useTranslation();
  const p = job.progress;
  const text = job.status === "discovering" ? t("discovery.discovering", { pages: p.pages, calls: p.calls, found: p.listings_found })
    : job.status === "applying" ? t("discovery.applying", { done: p.applied, total: job.summary?.mapped ?? 0 })
      : job.status === "settling" ? t("discovery.settling") : null;
  return text ? <p role="status" aria-live="polite" data-discovery-progress>{text}</p> : null;
}

function JobView({ job, staff, busy, onRemap, onApply, onChoose }: {
  job: DiscoveryJob; staff: boolean; busy: boolean; onRemap: (picks: Picks) => void; onApply: () => void;
  onChoose: (body: FirstSyncBody) => void;
}) {
  const { t } = useTranslation();
  const s = job.summary;
  return (
    <div data-discovery={job.discovery_id} data-discovery-status={job.status}>
      <p>{t("discovery.status", { status: t(`discovery.statuses.${job.status}`) })}</p>
      <Progress job={job} />
      {job.status === "failed" && <p role="alert" className="error" data-discovery-error>{t("discovery.failed", { error: job.error ?? "" })}</p>}
      {s && <p data-discovery-summary>{t("discovery.summary", { listings: s.listings, mapped: s.mapped, unmapped: s.unmapped,
        conflicts: s.conflicts, already: s.already_mapped })}</p>}
      {job.mapped && <Report job={job} staff={staff && job.status === "ready"} busy={busy} onRemap={onRemap} />}
      {job.status === "ready" && staff && (
        <button type="button" disabled={busy || !(job.mapped ?? []).length} data-apply-discovery onClick={onApply}>
          {t("discovery.apply", { count: (job.mapped ?? []).length })}</button>)}
      {job.first_sync && <FirstSync job={job} staff={staff} busy={busy} onChoose={onChoose} />}
    </div>
  );
}

function Report({ job, staff, busy, onRemap }: { job: DiscoveryJob; staff: boolean; busy: boolean; onRemap: (picks: Picks) => void }) {
  const { t } = useTranslation();
  const [picks, setPicks] = useState<Picks>({});
  const picked = Object.values(picks).filter((v) => v.trim()).length;
  const pick = (lid: string, sku: string) => setPicks((p) => ({ ...p, [lid]: sku }));
  const picker = (l: DiscoveredListing, options: string[]) => (
    <span className="actions-row">
      {options.map((sku) => (
        <button key={sku} type="button" data-suggest={`${l.listing_id}:${sku}`} onClick={() => pick(l.listing_id, sku)}
                aria-label={t("discovery.useSku", { sku, listing: l.listing_id })}>{sku}</button>))}
      <input value={picks[l.listing_id] ?? ""} onChange={(e) => pick(l.listing_id, e.target.value)} data-map={l.listing_id}
             aria-label={t("discovery.skuFor", { listing: l.listing_id })} placeholder={t("fields.sku")} size={14} />
    </span>
  );
  const conflictRows = (job.conflicts ?? []).flatMap((c) => c.listings.map((l) => ({ ...l, kind: c.kind, skus: c.skus })));
  return (
    <>
      <DataTable name="discovery-mapped" caption={t("discovery.mapped")} rows={job.mapped ?? []} rowKey={(l) => l.listing_id}
                 empty={t("discovery.noMapped")}
                 columns={[
                   { key: "listing_id", label: t("fields.listing") }, { key: "seller_sku", label: t("discovery.sellerSku") },
                   { key: "title", label: t("discovery.listingTitle") },
                   { key: "components", label: t("fields.sku"), value: (l) => componentsText(l.components) },
                   { key: "rule", label: t("discovery.rule"), value: (l) => t(`discovery.rules.${l.rule}`, { defaultValue: l.rule }) },
                 ]} />
      <DataTable name="discovery-unmapped" caption={t("discovery.unmapped")} rows={job.unmapped ?? []} rowKey={(l) => l.listing_id}
                 empty={t("discovery.noUnmapped")}
                 columns={[
                   { key: "listing_id", label: t("fields.listing") }, { key: "seller_sku", label: t("discovery.sellerSku") },
                   { key: "barcode", label: t("discovery.barcode") }, { key: "title", label: t("discovery.listingTitle") },
                   { key: "suggestions", label: t("discovery.suggestions"), value: (l) => (l.suggestions ?? []).join(", "),
                     render: (l) => (staff ? picker(l, l.suggestions ?? []) : (l.suggestions ?? []).join(", ") || "—") },
                 ]} />
      <DataTable name="discovery-conflicts" caption={t("discovery.conflicts")} rows={conflictRows} rowKey={(l) => `${l.kind}/${l.listing_id}`}
                 empty={t("discovery.noConflicts")}
                 columns={[
                   { key: "kind", label: t("fields.kind"), value: (l) => t(`discovery.kinds.${l.kind}`) },
                   { key: "listing_id", label: t("fields.listing") }, { key: "seller_sku", label: t("discovery.sellerSku") },
                   { key: "barcode", label: t("discovery.barcode") },
                   { key: "skus", label: t("fields.skus"), value: (l) => l.skus.join(", "),
                     render: (l) => (staff ? picker(l, l.skus) : l.skus.join(", ")) },
                 ]} />
      {staff && (
        <div className="actions-row">
          <button type="button" disabled={busy || !picked} data-remap onClick={() => onRemap(picks)}>
            {t("discovery.remap", { count: picked })}</button>
          <span className="help">{t("discovery.remapHelp")}</span>
        </div>)}
    </>
  );
}

function FirstSync({ job, staff, busy, onChoose }: {
  job: DiscoveryJob; staff: boolean; busy: boolean;
  onChoose: (body: FirstSyncBody) => void;
}) {
  const { t } = useTranslation();
  const { api } = useApp();
  const warehouses = useLoad(() => api.warehouses(), [api]);
  const [warehouse, setWarehouse] = useState("");
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [problem, setProblem] = useState<string | null>(null);
  const rows = job.first_sync ?? [];
  const pending = pendingRows(rows);
  const open = staff && job.status === "choosing" && pending.length > 0;
  const toggle = (id: string) => setChosen((c) => { const n = new Set(c); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const choose = (choice: "push" | "opening") => {
    const made = firstSyncBody(choice, warehouse, chosen, rows);
    if ("problem" in made) { setProblem(made.problem); return; }
    setProblem(null);
    setChosen(new Set());
    onChoose(made.body);
  };
  const statusText = (r: FirstSyncRow) => r.status === "pending" ? t("discovery.pending")
    : r.status === "push" ? t("discovery.pushed") : t("discovery.opened", { result: r.opening ?? "" });
  return (
    <div data-first-sync>
      <h3>{t("discovery.firstSync")}</h3>
      <p className="help">{t("discovery.firstSyncHelp")}</p>
      {(job.read_back_errors ?? []).map((e) => <p key={e} className="error" role="alert">{t("discovery.readBackError", { error: e })}</p>)}
      <DataTable<FirstSyncRow> name="discovery-first-sync" caption={t("discovery.firstSync")} rows={rows} rowKey={(r) => r.listing_id}
                 empty={t("discovery.noFirstSync")}
                 columns={[
                   ...(open ? [{ key: "choose", label: t("discovery.choose"), exported: false,
                     render: (r: FirstSyncRow) => r.status === "pending" ? (
                       <input type="checkbox" checked={chosen.has(r.listing_id)} onChange={() => toggle(r.listing_id)}
                              data-choose-listing={r.listing_id} aria-label={t("discovery.chooseListing", { listing: r.listing_id })} />) : null }] : []),
                   { key: "listing_id", label: t("fields.listing") },
                   { key: "components", label: t("fields.sku"), value: (r) => componentsText(r.components) },
                   { key: "platform_qty", label: t("discovery.platformQty"), type: "int" },
                   { key: "stocklink_qty", label: t("discovery.stocklinkQty"), type: "int" },
                   { key: "difference", label: t("discovery.difference"), type: "int" },
                   { key: "status", label: t("fields.status"), value: statusText },
                 ]} />
      {open && (
        <div className="po-form" data-form="first-sync">
          <p className="help">{chosen.size ? t("discovery.forChosen", { count: chosen.size }) : t("discovery.forAll", { count: pending.length })}</p>
          <button type="button" disabled={busy} data-first-sync-choice="push" onClick={() => choose("push")}>{t("discovery.push")}</button>
          <div className="actions-row">
            <label>{t("discovery.openingWarehouse")}
              <select value={warehouse} onChange={(e) => setWarehouse(e.target.value)} data-testid="opening-warehouse">
                <option value="">{t("discovery.chooseWarehouse")}</option>
                {(warehouses.data ?? []).map((w) => <option key={w.warehouse_id} value={w.warehouse_id}>{w.name} ({w.warehouse_id})</option>)}
              </select>
            </label>
            <button type="button" disabled={busy} data-first-sync-choice="opening" onClick={() => choose("opening")}>
              {t("discovery.opening", { warehouse: warehouse || "…" })}</button>
          </div>
          {problem && <p role="alert" className="error">{t(problem)}</p>}
          {warehouses.error ? <ErrorState error={warehouses.error} onRetry={warehouses.reload} /> : null}
        </div>)}
      {job.status === "done" && (
        <p className="saved" role="status" data-discovery-done>{t("discovery.done")}{" "}
          <Link to={`/channels?platform=${encodeURIComponent(job.platform)}&shop=${encodeURIComponent(job.shop)}`}>{t("discovery.toChannels")}</Link></p>)}
    </div>
  );
}
