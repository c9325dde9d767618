/** A purchase order laid out to send to the supplier, in the console's language: "Print / save as PDF" opens the
 * browser's print dialog; the print stylesheet leaves only the document (the browser renders the CJK text). */
import { Link, useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "../components/States";
import { fmtMoney, fmtNumber } from "../lib/format";
import { usePo } from "./PoDetail";
import { poDocument } from "./poDocument";

const MONEY_COLUMNS = new Set([3, 4]);   // unit price, amount

export function PoPrintPage() {
  const { id = "" } = useParams();
  const { t, i18n } = useTranslation();
  const loaded = usePo(id);
  if (loaded.loading) return <Loading />;
  if (loaded.error) return <ErrorState error={loaded.error} onRetry={loaded.reload} />;
  if (!loaded.data) return null;
  const { po, supplier, warehouse } = loaded.data;
  const doc = poDocument(po, supplier, warehouse, t);
  const cell = (value: string | number | null, column: number) => {
    if (value === null) return "—";
    if (typeof value !== "number") return value;
    return MONEY_COLUMNS.has(column) ? fmtMoney(value, i18n.language) : fmtNumber(value, i18n.language);
  };
  return (
    <article className="po-print" aria-labelledby="po-print-title" data-print={po.po_id}>
      <div className="no-print table-tools">
        <Link to={`/purchase-orders/${encodeURIComponent(po.po_id)}`}>{t("purchaseOrders.backToPo")}</Link>
        <button type="button" onClick={() => window.print()} data-print-button>{t("purchaseOrders.print")}</button>
      </div>
      <h1 id="po-print-title">{doc.title}</h1>
      <dl className="facts">
        {doc.facts.map(([label, value]) => (
          <div key={label} className="fact"><dt>{label}</dt><dd>{value ?? "—"}</dd></div>
        ))}
      </dl>
      <table>
        <caption>{t("purchaseOrders.lines")}</caption>
        <thead><tr>{doc.columns.map((c, i) => <th key={c} scope="col" className={i === 1 || i === 5 ? undefined : "num"}>{c}</th>)}</tr></thead>
        <tbody>
          {doc.lines.map((row) => (
            <tr key={String(row[0])}>
              {row.map((value, i) => <td key={i} className={i === 1 || i === 5 ? undefined : "num"}>{cell(value, i)}</td>)}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr><th scope="row" colSpan={4}>{doc.totalLabel}</th><td className="num" data-print-total>{cell(doc.total, 4)}</td><td /></tr>
        </tfoot>
      </table>
      <div className="signatures">
        <p>{t("purchaseOrders.signBuyer")}</p>
        <p>{t("purchaseOrders.signSupplier")}</p>
      </div>
    </article>
  );
}
