/** Tables to files, in the browser: CSV (UTF-8 with BOM so Excel reads Chinese) and XLSX (exceljs, loaded only
 * when someone exports). Cells hold the raw values the API sent, not their on-screen formatting. */

export interface ExportColumn { key: string; label: string; type?: string }
export type Row = Record<string, unknown>;

export function cellValue(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") return value;
  return JSON.stringify(value);
}

/** A text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a leading quote; numbers don't. */
export function neutralise(text: string): string {
  return /^[=+\-@\t\r]/.test(text) && !/^[-+]?\d+(\.\d+)?$/.test(text) ? `'${text}` : text;
}

function csvField(value: unknown): string {
  const v = cellValue(value);
  if (v === null) return "";
  const text = typeof v === "string" ? neutralise(v) : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(columns: ExportColumn[], rows: Row[]): string {
  const lines = [columns.map((c) => csvField(c.label)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c.key])).join(","));
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}

export async function toXlsx(columns: ExportColumn[], rows: Row[], sheetName = "StockLink"): Promise<ArrayBuffer> {
  const { default: ExcelJS } = await import("exceljs");
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "StockLink";
  const sheet = workbook.addWorksheet(sheetName.replace(/[\\/?*[\]:]/g, " ").slice(0, 31) || "StockLink");
  sheet.addRow(columns.map((c) => c.label)).font = { bold: true };
  for (const row of rows) {
    sheet.addRow(columns.map((c) => {
      const v = cellValue(row[c.key]);
      return typeof v === "string" ? neutralise(v) : v;
    }));
  }
  columns.forEach((c, i) => { sheet.getColumn(i + 1).width = Math.min(40, Math.max(10, c.label.length + 2)); });
  return (await workbook.xlsx.writeBuffer()) as ArrayBuffer;
}

export function fileName(base: string, ext: "csv" | "xlsx", now = new Date()): string {
  const stamp = now.toISOString().slice(0, 10);
  return `stocklink-${base.replace(/[^A-Za-z0-9_-]+/g, "-")}-${stamp}.${ext}`;
}

export function download(data: BlobPart, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
