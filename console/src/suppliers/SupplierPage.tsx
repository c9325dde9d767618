/** One supplier: its record (editable by buyers), its scorecard over the last 12 months, and its quotes. */
import { Link, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { Scorecard } from "../api/client";
import { useApp } from "../AppContext";
import { can } from "../auth/roles";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { fmtNumber, fmtPercent } from "../lib/format";
import { QuoteEditor } from "./QuoteEditor";
import { SupplierEditor } from "./SupplierEditor";

export function SupplierPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const { api, session } = useApp();
  const supplier = useLoad(() => api.supplier(id), [api, id]);
  const card = useLoad(() => api.scorecard(id), [api, id]);
  const buying = can(session?.roles, "buying");
  return (
    <section aria-labelledby="supplier-title">
      <p><Link to="/suppliers">{t("suppliers.back")}</Link></p>
      <h1 id="supplier-title">{supplier.data ? t("suppliers.detailTitle", { name: supplier.data.name }) : id}</h1>
      {supplier.loading && !supplier.data ? <Loading /> : supplier.error ? <ErrorState error={supplier.error} onRetry={supplier.reload} />
        : supplier.data && (buying
          ? <SupplierEditor supplier={supplier.data} onSaved={() => { supplier.reload(); card.reload(); }} />
          : <dl className="facts">
              <dt>{t("suppliers.currency")}</dt><dd>{supplier.data.currency ?? "—"}</dd>
              <dt>{t("fields.lead_time_days")}</dt><dd>{supplier.data.lead_time_days}</dd>
              <dt>{t("fields.moq")}</dt><dd>{supplier.data.moq}</dd>
              <dt>{t("fields.case_pack")}</dt><dd>{supplier.data.case_pack}</dd>
              <dt>{t("suppliers.paymentTerms")}</dt><dd>{supplier.data.payment_terms || "—"}</dd>
            </dl>)}

      <h2>{t("suppliers.scorecard")}</h2>
      {card.loading ? <Loading /> : card.error ? <ErrorState error={card.error} onRetry={card.reload} />
        : card.data && <ScorecardView card={card.data} />}

      <h2>{t("suppliers.quotes")}</h2>
      <QuoteEditor supplierId={id} editable={buying} />
    </section>
  );
}

export function ScorecardView({ card }: { card: Scorecard }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <>
      <p className="note">{t("suppliers.window", { from: card.window.from_month, to: card.window.to_month, count: card.receipts })}</p>
      <dl className="facts" data-scorecard={card.supplier_id}>
        <dt>{t("suppliers.onTime")}</dt><dd>{fmtPercent(card.on_time_rate, lang)} ({t("suppliers.late", { count: card.late_receipts })})</dd>
        <dt>{t("suppliers.leadActual")}</dt>
        <dd>{card.lead_time_days ? t("suppliers.days", { mean: fmtNumber(card.lead_time_days.mean, lang, 1), spread: fmtNumber(card.lead_time_days.spread, lang, 1) }) : "—"}</dd>
        <dt>{t("suppliers.leadQuoted")}</dt>
        <dd>{t("suppliers.days", { mean: fmtNumber(card.quoted_lead_time_days.mean, lang, 1), spread: fmtNumber(card.quoted_lead_time_days.spread, lang, 1) })}</dd>
        <dt>{t("suppliers.quality")}</dt>
        <dd>{fmtPercent(card.reject_rate, lang)} ({t("suppliers.rejectedOf", { rejected: fmtNumber(card.rejected_units, lang), received: fmtNumber(card.received_units, lang) })})</dd>
        <dt>{t("suppliers.priceIndex")}</dt><dd>{fmtNumber(card.price_index, lang, 3)}</dd>
        <dt>{t("suppliers.blended")}</dt>
        <dd>{t("suppliers.blendedText", { onTime: fmtPercent(card.blended.on_time_rate, lang), lead: fmtNumber(card.blended.lead_time_days, lang, 1),
          reject: fmtPercent(card.blended.reject_rate, lang), prior: fmtNumber(card.blended.prior_weight, lang, 2) })}</dd>
      </dl>
    </>
  );
}
