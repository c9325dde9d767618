import { describe, expect, it } from "vitest";
import { bandBadge, severityRank, statusBadge, STATUSES, urgencyOrder } from "../src/lib/status";

describe("status badges", () => {
  it("gives each stock status its own label and a tone by how bad it is", () => {
    expect(STATUSES.map((s) => statusBadge(s))).toEqual([
      { labelKey: "status.normal", tone: "ok" }, { labelKey: "status.low", tone: "warn" },
      { labelKey: "status.zero", tone: "bad" }, { labelKey: "status.over", tone: "info" },
    ]);
  });

  it("shows an unknown or missing status as unknown, not as normal", () => {
    expect(statusBadge("gone")).toEqual({ labelKey: "status.unknown", tone: "muted" });
    expect(statusBadge(null).tone).toBe("muted");
    expect(statusBadge("toString").labelKey).toBe("status.unknown");
  });

  it("maps report health bands and a missing band", () => {
    expect(bandBadge("healthy").tone).toBe("ok");
    expect(bandBadge("watch").tone).toBe("warn");
    expect(bandBadge("problem").tone).toBe("bad");
    expect(bandBadge(null)).toEqual({ labelKey: "band.none", tone: "muted" });
  });
});

describe("ordering", () => {
  it("puts red alerts before orange and yellow, unknown levels last", () => {
    const levels = ["yellow", "mystery", "red", "orange"].sort((a, b) => severityRank(a) - severityRank(b));
    expect(levels).toEqual(["red", "orange", "yellow", "mystery"]);
  });

  it("orders replenishment by stock-out within lead time, then date, then quantity", () => {
    const s = (sku: string, within: boolean, date: string | null, qty: number) =>
      ({ sku, stockout_within_lead_time: within, stockout_date: date, suggested_order_qty: qty });
    const sorted = [s("later", false, "2026-01-20", 5), s("none", false, null, 90), s("soon", true, "2026-01-09", 1),
      s("sooner", true, "2026-01-03", 1), s("big", false, "2026-01-20", 50)].sort(urgencyOrder);
    expect(sorted.map((x) => x.sku)).toEqual(["sooner", "soon", "big", "later", "none"]);
  });
});
