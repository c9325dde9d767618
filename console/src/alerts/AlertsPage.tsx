/** Alerts by severity, each acknowledgeable; the subscriptions that receive them (email / SMS / chat). */
import { useState } from "react";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { Alert } from "../api/client";
import { useApp } from "../AppContext";
import { LevelBadge } from "../components/Badge";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { severityRank } from "../lib/status";
import { Subscriptions } from "./Subscriptions";
import { alertAction, alertTitle } from "./texts";

export function AlertsPage() {
  const { t, i18n } = useTranslation();
  const { api } = useApp();
  const [status, setStatus] = useState("open");
  const alerts = useLoad(async () => (await api.alerts(status)).sort((a, b) =>
    severityRank(a.level) - severityRank(b.level) || (b.updated_at ?? 0) - (a.updated_at ?? 0)), [api, status]);
  const [acking, setAcking] = useState<string | null>(null);
  const [ackError, setAckError] = useState<unknown>(null);
  const ack = async (alert: Alert) => {
    setAcking(alert.id);
    setAckError(null);
    try {
      await api.ack(alert.id);
      alerts.reload();
    } catch (err) {
      setAckError(err);
    } finally {
      setAcking(null);
    }
  };
  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">{t("alerts.title")}</h1>
      <label className="inline">{t("fields.status")}
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          {["open", "unacked", "acked", "all"].map((s) => <option key={s} value={s}>{t(`alerts.status.${s}`)}</option>)}
        </select>
      </label>
      {ackError ? <ErrorState error={ackError} /> : null}
      {alerts.loading ? <Loading /> : alerts.error ? <ErrorState error={alerts.error} onRetry={alerts.reload} /> : (
        <DataTable<Alert> name="alerts" caption={t("alerts.title")} rows={alerts.data ?? []} rowKey={(a) => a.id}
                   empty={t("alerts.empty")}
                   columns={[
                     { key: "level", label: t("fields.level"), render: (a) => <LevelBadge level={a.level} /> },
                     { key: "kind", label: t("fields.kind"), render: (a) => t(`alerts.kinds.${a.kind}`, { defaultValue: a.kind }) },
                     { key: "sku", label: t("fields.sku"), render: (a) => a.sku ? <Link to={`/skus/${encodeURIComponent(a.sku)}`}>{a.sku}</Link> : "—" },
                     { key: "scope", label: t("fields.scope") },
                     { key: "title", label: t("fields.title"), value: (a) => alertTitle(a, t) },
                     { key: "action", label: t("fields.action"), value: (a) => alertAction(a, i18n.language, t) },
                     { key: "status", label: t("fields.status"), render: (a) => t(`alerts.status.${a.status}`, { defaultValue: a.status }) },
                     { key: "since", label: t("fields.since"), type: "time" },
                     { key: "ack", label: t("alerts.acknowledge"), value: (a) => a.acked_by ?? null,
                       render: (a) => a.status === "open"
                         ? <button type="button" data-ack={a.id} onClick={() => void ack(a)} disabled={acking === a.id}>{t("alerts.acknowledge")}</button>
                         : (a.acked_by ?? "—") },
                   ]} />
      )}
      <h2>{t("alerts.subscriptions")}</h2>
      <Subscriptions />
    </section>
  );
}
