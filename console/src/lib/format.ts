/** Numbers and times for the screen, in the current language's conventions. */

export function fmtNumber(value: unknown, lang: string, digits = 0): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  return n.toLocaleString(lang, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function fmtMoney(value: unknown, lang: string): string {
  return fmtNumber(value, lang, 2);
}

export function fmtPercent(value: unknown, lang: string): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  return Number.isFinite(n) ? `${(n * 100).toLocaleString(lang, { maximumFractionDigits: 1 })} %` : String(value);
}

/** Epoch milliseconds (or seconds, for values below 1e11) as a local date and time. */
export function fmtTime(value: unknown, lang: string): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  const ms = n < 1e11 ? n * 1000 : n;
  return new Date(ms).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
}

export function fmtCell(value: unknown, type: string | undefined, lang: string): string {
  switch (type) {
    case "int": return fmtNumber(value, lang);
    case "number": return fmtNumber(value, lang, 2);
    case "money": return fmtMoney(value, lang);
    case "percent": return fmtPercent(value, lang);
    case "time": return fmtTime(value, lang);
    default: return value === null || value === undefined || value === "" ? "—" : String(value);
  }
}

export function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}
