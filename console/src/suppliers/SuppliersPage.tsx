/** 供应商: every supplier (active and retired) with its terms; buyers add new ones. */
import { Link, useNavigate } from "react-router";
import { useTranslation } from "react-i18next";
import type { SupplierRecord } from "../api/client";
import { useApp } from "../AppContext";
import { can } from "../auth/roles";
import { DataTable } from "../components/DataTable";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { SupplierEditor } from "./SupplierEditor";

export function SuppliersPage() {
  const { t } = useTranslation();
  const { api, session } = useApp();
  const navigate = useNavigate();
  const list = useLoad(() => api.suppliers(), [api]);
  return (
    <section aria-labelledby="suppliers-title">
      <h1 id="suppliers-title">{t("suppliers.title")}</h1>
      {list.loading ? <Loading /> : list.error ? <ErrorState error={list.error} onRetry={list.reload} /> : (
        <DataTable<SupplierRecord> name="suppliers" caption={t("suppliers.title")} rows={list.data ?? []}
                   rowKey={(s) => s.supplier_id} empty={t("suppliers.empty")}
                   columns={[
                     { key: "supplier_id", label: t("suppliers.id"),
                       render: (s) => <Link to={`/suppliers/${encodeURIComponent(s.supplier_id)}`}>{s.supplier_id}</Link> },
                     { key: "name", label: t("fields.name") },
                     { key: "active", label: t("suppliers.active"), render: (s) => t(s.active ? "common.yes" : "common.no") },
                     { key: "currency", label: t("suppliers.currency") },
                     { key: "lead_time_days", label: t("fields.lead_time_days"), type: "number" },
                     { key: "moq", label: t("fields.moq"), type: "int" },
                     { key: "case_pack", label: t("fields.case_pack"), type: "int" },
                     { key: "payment_terms", label: t("suppliers.paymentTerms") },
                     { key: "contact", label: t("suppliers.contact"),
                       value: (s) => [s.contact?.name, s.contact?.email, s.contact?.phone].filter(Boolean).join(" · ") || null },
                   ]} />
      )}
      {can(session?.roles, "buying") && (
        <>
          <h2>{t("suppliers.newTitle")}</h2>
          <SupplierEditor supplier={null} onSaved={(s) => navigate(`/suppliers/${encodeURIComponent(s.supplier_id)}`)} />
        </>
      )}
    </section>
  );
}
