import ExcelJS from "exceljs";
import { describe, expect, it } from "vitest";
import { fileName, neutralise, toCsv, toXlsx } from "../src/lib/export";

const COLUMNS = [{ key: "sku", label: "SKU" }, { key: "name", label: "名称" }, { key: "available", label: "Available", type: "int" }];
const ROWS = [
  { sku: "TEE-RED-M", name: "Red tee, \"M\"", available: 12 },
  { sku: "=HYPERLINK(\"x\")", name: "多行\n名称", available: -3 },
  { sku: "EMPTY", name: null, available: 0 },
];

describe("CSV export", () => {
  it("writes a BOM, the labels, then every row in column order with RFC 4180 quoting", () => {
    const csv = toCsv(COLUMNS, ROWS);
    expect(csv.startsWith("\uFEFF")).toBe(true);
    const lines = csv.slice(1).split("\r\n");
    expect(lines[0]).toBe("SKU,名称,Available");
    expect(lines[1]).toBe('TEE-RED-M,"Red tee, ""M""",12');
    expect(lines[2]).toBe(`"'=HYPERLINK(""x"")","多行\n名称",-3`);
    expect(lines[3]).toBe("EMPTY,,0");
    expect(lines.length).toBe(ROWS.length + 2); // header, rows, and the final line break
  });

  it("neutralises text a spreadsheet would run as a formula but leaves numbers alone", () => {
    expect(neutralise("=1+1")).toBe("'=1+1");
    expect(neutralise("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(neutralise("-12")).toBe("-12");
    expect(neutralise("+3.5")).toBe("+3.5");
    expect(neutralise("plain")).toBe("plain");
  });
});

describe("XLSX export", () => {
  it("holds the same header and cells, numbers as numbers", async () => {
    const buffer = await toXlsx(COLUMNS, ROWS, "Stock board: all/any?");
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(buffer);
    const sheet = book.worksheets[0];
    expect(sheet.name).toBe("Stock board  all any ");
    const values = sheet.getSheetValues().filter(Boolean).map((row) => (row as unknown[]).slice(1));
    expect(values).toEqual([
      ["SKU", "名称", "Available"],
      ["TEE-RED-M", "Red tee, \"M\"", 12],
      ["'=HYPERLINK(\"x\")", "多行\n名称", -3],
      ["EMPTY", undefined, 0],
    ]);
    expect(typeof sheet.getCell("C2").value).toBe("number");
  });
});

describe("file names", () => {
  it("are safe and dated", () => {
    expect(fileName("SKU A/B#1 ledger", "csv", new Date("2026-12-07T10:00:00Z"))).toBe("stocklink-SKU-A-B-1-ledger-2026-12-07.csv");
  });
});
