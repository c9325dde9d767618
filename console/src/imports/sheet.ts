/** A catalogue sheet as the API takes it: CSV text (an XLSX's first sheet converted here, as the CLI does), sent
 * in parts under the API's 1 MiB body limit, each with the header row and the file line of its first row so the
 * dry run's errors name the seller's own line numbers. */
import type { ApiClient, ImportJob } from "../api/client";

export const PART_BYTES = 900_000;     // under the API's 1 MiB, as the CLI's parts (infra/local/api_cli.py)
export const MAX_PARTS = 200;          // the API's limit (logic/imports.MAX_PARTS)

/** UTF-8 (with or without BOM), else GB18030 as Chinese Excel saves a CSV; the API reads both, this keeps one. */
export function decodeCsv(bytes: ArrayBuffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  } catch {
    return new TextDecoder("gb18030").decode(bytes);
  }
}

export const isXlsx = (name: string) => /\.xls[xm]$/i.test(name);

type Cell = unknown;

/** One cell as text: a formula's result, rich text joined, a date as its day, whole numbers without ".0"; line
 * breaks become spaces so each sheet row stays one CSV line (line numbers = the sheet's row numbers). */
export function cellText(value: Cell): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === "object") {
    const v = value as { result?: Cell; richText?: { text: string }[]; text?: Cell; error?: string };
    if ("result" in v) return cellText(v.result);
    if (Array.isArray(v.richText)) return cellText(v.richText.map((r) => r.text).join(""));
    if ("text" in v) return cellText(v.text);
    if ("error" in v) return "";
    return "";
  }
  return String(value).replace(/\r\n|\r|\n/g, " ");
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The first worksheet of an XLSX as CSV (exceljs, loaded only when someone imports a workbook). */
export async function xlsxToCsv(data: ArrayBuffer): Promise<string> {
  const { default: ExcelJS } = await import("exceljs");
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(data);
  const sheet = workbook.worksheets[0];
  if (!sheet) return "";
  const lines: string[] = [];
  const width = sheet.columnCount;
  for (let r = 1; r <= sheet.rowCount; r += 1) {
    const row = sheet.getRow(r);
    const cells: string[] = [];
    for (let c = 1; c <= width; c += 1) cells.push(csvField(cellText(row.getCell(c).value)));
    while (cells.length && cells[cells.length - 1] === "") cells.pop();
    lines.push(cells.join(","));
  }
  return lines.join("\n") + "\n";
}

/** The file's bytes (FileReader: every browser has it, and so has the test DOM). */
export function readBytes(file: Blob): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsArrayBuffer(file);
  });
}

export async function fileAsCsv(file: Blob & { name: string }): Promise<string> {
  const data = await readBytes(file);
  return isXlsx(file.name) ? xlsxToCsv(data) : decodeCsv(data);
}

/** The CSV's records, each with the file line it starts on (a quoted field may span lines). */
export function records(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let start = 0;
  let line = 1;
  let startLine = 1;
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === "\n") {
      line += 1;
      if (!quoted) {
        out.push({ text: text.slice(start, i + 1), line: startLine });
        start = i + 1;
        startLine = line;
      }
    }
  }
  if (start < text.length) out.push({ text: text.slice(start) + "\n", line: startLine });
  return out;
}

const utf8 = new TextEncoder();

/** Parts of at most ~`limit` bytes, each the header record then whole records, with the file line of its
 * first data record (the API's `first_line`). A file of one part is sent as it is. */
export function splitParts(text: string, limit = PART_BYTES): { text: string; firstLine: number }[] {
  const all = records(text);
  if (all.length <= 1 || utf8.encode(text).length <= limit) return [{ text, firstLine: 2 }];
  const [header, ...rows] = all;
  const headerBytes = utf8.encode(header.text).length;
  const parts: { text: string; firstLine: number }[] = [];
  let chunk: string[] = [];
  let size = headerBytes;
  let first = rows[0].line;
  for (const row of rows) {
    const bytes = utf8.encode(row.text).length;
    if (chunk.length && size + bytes > limit) {
      parts.push({ text: header.text + chunk.join(""), firstLine: first });
      chunk = [];
      size = headerBytes;
      first = row.line;
    }
    chunk.push(row.text);
    size += bytes;
  }
  parts.push({ text: header.text + chunk.join(""), firstLine: first });
  return parts;
}

/** Sends every part (the first starts the import, the others name it); the last answer holds the dry run. */
export async function uploadSheet(api: ApiClient, text: string, onPart: (done: number, total: number) => void,
                                  limit = PART_BYTES): Promise<ImportJob> {
  const parts = splitParts(text, limit);
  if (parts.length > MAX_PARTS) throw new Error(`the sheet would take ${parts.length} parts; at most ${MAX_PARTS}`);
  let job: ImportJob | null = null;
  for (let n = 0; n < parts.length; n += 1) {
    job = await api.uploadCatalog(parts[n].text, {
      parts: parts.length, part: n + 1, first_line: parts[n].firstLine, import_id: job?.import_id,
    });
    onPart(n + 1, parts.length);
  }
  return job!;
}

/** The apply body: "all" when the seller accepts every proposed adjustment (listed or not), else the keys. */
export function acceptBody(all: boolean, chosen: ReadonlySet<string>): "all" | string[] {
  return all ? "all" : [...chosen].sort();
}
