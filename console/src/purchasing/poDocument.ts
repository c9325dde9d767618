/** A purchase order as a document to send to the supplier: the same content for the XLSX file and the print
 * view (PDF through the browser's print dialog), in the console's language. Numbers stay numbers in the file. */
import type { TFunction } from "i18next";
import type { PurchaseOrder, SupplierRecord, Warehouse } from "../api/client";
import { neutralise } from "../lib/export";
import { isoDay } from "../lib/format";
import { lineAmount } from "./poRules";

export type Cell = string | number | null;

export interface PoDocument {
  title: string;
  /** label → value pairs of the header: PO, date, status, supplier and its contact, ship-to, currency, terms */
  facts: [string, Cell][];
  columns: string[];
  lines: Cell[][];
  totalLabel: string;
  total: number;
}

/** Epoch ms (or s) as the UTC day the PO was made. */
function day(at: number): string {
  return isoDay(new Date(at < 1e11 ? at * 1000 : at));
}

export function poDocument(po: PurchaseOrder, supplier: SupplierRecord | null, warehouse: Warehouse | null,
                           t: TFunction): PoDocument {
  const contact = supplier?.contact;
  const facts: [string, Cell][] = [
    [t("purchaseOrders.po"), po.po_id],
    [t("purchaseOrders.date"), day(po.created_at)],
    [t("fields.status"), t(`purchaseOrders.status.${po.status}`)],
    [t("fields.supplier"), supplier ? `${supplier.name} (${supplier.supplier_id})` : po.supplier_id],
    [t("suppliers.contact"), contact ? [contact.name, contact.email, contact.phone].filter(Boolean).join(" · ") || null : null],
    [t("purchaseOrders.shipTo"), warehouse ? `${warehouse.name} (${warehouse.warehouse_id})` : po.warehouse_id],
    [t("suppliers.currency"), po.currency ?? supplier?.currency ?? null],
    [t("suppliers.paymentTerms"), supplier?.payment_terms || null],
    [t("purchaseOrders.eta"), po.eta],
    ...(po.note ? [[t("purchaseOrders.note"), po.note] as [string, Cell]] : []),
  ];
  return {
    title: t("purchaseOrders.documentTitle", { id: po.po_id }),
    facts,
    columns: [t("purchaseOrders.line"), t("fields.sku"), t("purchaseOrders.ordered"), t("fields.unit_price"),
      t("purchaseOrders.amount"), t("purchaseOrders.promised")],
    lines: po.lines.map((l) => [l.line, l.sku, l.qty, l.unit_price, lineAmount(l), l.promised_date]),
    totalLabel: t("purchaseOrders.total"),
    total: po.total,
  };
}

/** The rows of the XLSX sheet: title, header facts, a blank row, the lines' header, the lines, the total. */
export function poSheetRows(doc: PoDocument): Cell[][] {
  return [
    [doc.title],
    ...doc.facts.map(([label, value]) => [label, value]),
    [],
    doc.columns,
    ...doc.lines,
    [doc.totalLabel, null, null, null, doc.total, null],
  ];
}

export async function poXlsx(doc: PoDocument, sheetName: string): Promise<ArrayBuffer> {
  const { default: ExcelJS } = await import("exceljs");
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "StockLink";
  const sheet = workbook.addWorksheet(sheetName.replace(/[\\/?*[\]:]/g, " ").slice(0, 31) || "PO");
  const rows = poSheetRows(doc);
  // text a spreadsheet would run as a formula (a supplier named "=…") is kept as text
  rows.forEach((row) => sheet.addRow(row.map((c) => (typeof c === "string" ? neutralise(c) : c))));
  sheet.getRow(1).font = { bold: true, size: 14 };
  const header = rows.findIndex((r) => r === doc.columns) + 1;
  sheet.getRow(header).font = { bold: true };
  sheet.getRow(rows.length).font = { bold: true };
  [10, 22, 12, 12, 14, 14].forEach((w, i) => { sheet.getColumn(i + 1).width = w; });
  sheet.getColumn(2).width = 40;   // facts' values (supplier, contact) are long
  return (await workbook.xlsx.writeBuffer()) as ArrayBuffer;
}
