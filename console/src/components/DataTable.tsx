/** A table with CSV and XLSX export of what it holds (raw API values, headers in the current language). */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { download, fileName, toCsv, toXlsx, XLSX_TYPE, type Row } from "../lib/export";
import { fmtCell } from "../lib/format";
import { Empty } from "./States";

export interface Column<T> {
  key: string;
  label: string;
  type?: "text" | "int" | "number" | "money" | "percent" | "time" | "date";
  render?: (row: T) => React.ReactNode;
  /** the value exported for this column when it is not row[key] */
  value?: (row: T) => unknown;
  /** false: on screen only (a selection checkbox), not in the exported files */
  exported?: boolean;
}

const NUMERIC = new Set(["int", "number", "money", "percent"]);
const align = (type?: string) => (type && NUMERIC.has(type) ? "num" : undefined);

export function DataTable<T extends object>({ name, caption, columns, rows, empty, rowKey }: {
  name: string; caption: string; columns: Column<T>[]; rows: T[]; empty: string; rowKey: (row: T) => string;
}) {
  const { t, i18n } = useTranslation();
  const [busy, setBusy] = useState(false);
  const exported = columns.filter((c) => c.exported !== false);
  const exportRows = (): Row[] => rows.map((row) => Object.fromEntries(exported.map((c) =>
    [c.key, c.value ? c.value(row) : (row as Record<string, unknown>)[c.key]])));
  const exportCols = exported.map(({ key, label, type }) => ({ key, label, type }));
  const csv = () => download(toCsv(exportCols, exportRows()), fileName(name, "csv"), "text/csv;charset=utf-8");
  const xlsx = async () => {
    setBusy(true);
    try {
      download(await toXlsx(exportCols, exportRows(), caption), fileName(name, "xlsx"), XLSX_TYPE);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="table-block" data-table={name}>
      <div className="table-tools">
        <button type="button" onClick={csv} disabled={!rows.length} data-export="csv">{t("actions.exportCsv")}</button>
        <button type="button" onClick={() => void xlsx()} disabled={!rows.length || busy} data-export="xlsx">
          {t("actions.exportXlsx")}
        </button>
      </div>
      {rows.length === 0 ? <Empty message={empty} /> : (
        <div className="table-scroll" tabIndex={0} role="group" aria-label={caption}>
          <table>
            <caption>{caption}</caption>
            <thead>
              <tr>{columns.map((c) => <th key={c.key} scope="col" className={align(c.type)}>{c.label}</th>)}</tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={rowKey(row)}>
                  {columns.map((c) => (
                    <td key={c.key} data-col={c.key} className={align(c.type)}>
                      {c.render ? c.render(row)
                        : fmtCell(c.value ? c.value(row) : (row as Record<string, unknown>)[c.key], c.type, i18n.language)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
