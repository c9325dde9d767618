/** The catalogue sheet before it is sent: records with their file lines, parts under the body limit, XLSX and
 * GB18030 read as the CLI reads them, every part naming the import the first one started. */
import { describe, expect, it, vi } from "vitest";
import type { ApiClient, ImportJob, ImportPartQuery } from "../src/api/client";
import { acceptBody, cellText, decodeCsv, records, splitParts, uploadSheet, xlsxToCsv } from "../src/imports/sheet";

describe("records and parts", () => {
  const text = 'sku,name\nA-1,"Mug\nwith lid"\nA-2,Tea\nA-3,"Say ""hi"""\n';

  it("keeps a quoted line break inside its record and numbers each record by the file line it starts on", () => {
    expect(records(text).map((r) => r.line)).toEqual([1, 2, 4, 5]);
    expect(records(text)[1].text).toBe('A-1,"Mug\nwith lid"\n');
    expect(records("sku\nA").map((r) => r.text)).toEqual(["sku\n", "A\n"]);
  });

  it("sends a small file as it is, and a large one in parts that each repeat the header and know their first line", () => {
    expect(splitParts(text)).toEqual([{ text, firstLine: 2 }]);
    const parts = splitParts(text, 30);
    expect(parts.map((p) => p.firstLine)).toEqual([2, 4, 5]);
    expect(parts.every((p) => p.text.startsWith("sku,name\n"))).toBe(true);
    expect(parts.map((p) => p.text.slice("sku,name\n".length)).join("")).toBe(text.slice("sku,name\n".length));
  });

  it("measures parts in UTF-8 bytes (a Chinese name is three bytes a character)", () => {
    const zh = `商品编码,商品名称\n${Array.from({ length: 4 }, (_, i) => `S${i},${"茶".repeat(10)}`).join("\n")}\n`;
    const parts = splitParts(zh, 80);
    for (const part of parts) expect(new TextEncoder().encode(part.text).length).toBeLessThanOrEqual(80);
    expect(parts.map((p) => p.firstLine)).toEqual([2, 3, 4, 5]);
  });
});

describe("reading files", () => {
  it("reads UTF-8 with a BOM, and GB18030 as Chinese Excel saves a CSV", () => {
    expect(decodeCsv(new TextEncoder().encode("\uFEFFsku,名称\n").buffer as ArrayBuffer)).toBe("sku,名称\n");
    const gbk = new Uint8Array([0xc9, 0xcc, 0xc6, 0xb7, 0xb1, 0xe0, 0xc2, 0xeb, 0x0a]);   // 商品编码\n in GBK
    expect(decodeCsv(gbk.buffer)).toBe("商品编码\n");
  });

  it("turns an XLSX's first sheet into CSV: formula results, rich text, days, whole numbers, line breaks as spaces", async () => {
    const { default: ExcelJS } = await import("exceljs");
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet("Catalogue");
    sheet.addRow(["商品编码", "商品名称", "数量", "成本价", "到货"]);
    sheet.addRow(["TEA-1", { richText: [{ text: "Green " }, { text: "tea" }] }, 12, { formula: "2*1.5", result: 3 },
      new Date(Date.UTC(2025, 5, 1))]);
    sheet.addRow(["MUG-1", "Mug, \"big\"\nwhite", 3.0]);
    workbook.addWorksheet("Other").addRow(["ignored"]);
    const csv = await xlsxToCsv((await workbook.xlsx.writeBuffer()) as ArrayBuffer);
    expect(csv).toBe('商品编码,商品名称,数量,成本价,到货\nTEA-1,Green tea,12,3,2025-06-01\nMUG-1,"Mug, ""big"" white",3\n');
    expect(cellText({ error: "#REF!" })).toBe("");
    expect(cellText(null)).toBe("");
  });
});

describe("uploadSheet", () => {
  it("starts the import with the first part and names it in every later part; the last answer is the dry run", async () => {
    const calls: ImportPartQuery[] = [];
    const uploadCatalog = vi.fn(async (_csv: string, q: ImportPartQuery) => {
      calls.push(q);
      return { import_id: "imp-1", status: q.part === q.parts ? "ready" : "receiving" } as ImportJob;
    });
    const seen: [number, number][] = [];
    const job = await uploadSheet({ uploadCatalog } as unknown as ApiClient, "sku,name\nA,a\nB,b\nC,c\n",
      (done, total) => seen.push([done, total]), 12);
    expect(calls).toEqual([
      { parts: 3, part: 1, first_line: 2, import_id: undefined },
      { parts: 3, part: 2, first_line: 3, import_id: "imp-1" },
      { parts: 3, part: 3, first_line: 4, import_id: "imp-1" },
    ]);
    expect(seen).toEqual([[1, 3], [2, 3], [3, 3]]);
    expect(job.status).toBe("ready");
  });

  it("accepts every adjustment as 'all', or the ticked keys", () => {
    expect(acceptBody(true, new Set(["A@W"]))).toBe("all");
    expect(acceptBody(false, new Set(["B@W", "A@W"]))).toEqual(["A@W", "B@W"]);
    expect(acceptBody(false, new Set())).toEqual([]);
  });
});
