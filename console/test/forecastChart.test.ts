/** The SKU page's forecast chart: history bars before the forecast's first day, forecast and projected stock after. */
import { describe, expect, it } from "vitest";
import { days, forecastSeries, niceCeil, projectedStock } from "../src/skus/ForecastChart";

describe("forecastSeries", () => {
  it("puts the sales history before the forecast on one gapless day axis, each series null outside its days", () => {
    const s = forecastSeries({ sku: "A", history_start: "2025-05-30", history: [4, 0, -1], forecast_start: "2025-06-02",
      forecast: [2, 3], inventory_position: 10 });
    expect(s.axis).toEqual(["2025-05-30", "2025-05-31", "2025-06-01", "2025-06-02", "2025-06-03"]);
    expect(s.history).toEqual([4, 0, -1, null, null]);
    expect(s.forecast).toEqual([null, null, null, 2, 3]);
    expect(s.projected).toEqual([null, null, null, 8, 5]);
  });

  it("draws the forecast alone when the answer has no history (history_days=0 or an older API)", () => {
    for (const f of [{ sku: "A", history: [], history_start: null }, { sku: "A" }]) {
      const s = forecastSeries({ ...f, forecast_start: "2025-06-02", forecast: [1, 1, 1] });
      expect(s.axis).toEqual(days("2025-06-02", 3));
      expect(s.history).toEqual([null, null, null]);
      expect(s.forecast).toEqual([1, 1, 1]);
      expect(s.projected).toEqual([null, null, null]);      // no inventory position: nothing to project
    }
  });

  it("keeps dates right across a month end and a gap between history and forecast", () => {
    const s = forecastSeries({ sku: "A", history_start: "2024-02-28", history: [1, 2], forecast_start: "2024-03-02", forecast: [5] });
    expect(s.axis).toEqual(["2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02"]);
    expect(s.history).toEqual([1, 2, null, null]);
    expect(s.forecast).toEqual([null, null, null, 5]);
  });

  it("is empty without any days", () => {
    expect(forecastSeries({ sku: "A" })).toEqual({ axis: [], history: [], forecast: [], projected: [] });
  });
});

describe("projectedStock", () => {
  it("takes each day's forecast off the inventory position, a missing value as 0, and stops at 0", () => {
    expect(projectedStock(10, [2.5, null, 3])).toEqual([7.5, 7.5, 4.5]);
    expect(projectedStock(5, [3, 3, 3])).toEqual([2, 0, 0]);
  });
});

describe("niceCeil", () => {
  it("gives a round axis top just above the value, so a reorder-point line is never on the edge", () => {
    expect([niceCeil(95), niceCeil(4.8), niceCeil(1234), niceCeil(50), niceCeil(0)]).toEqual([100, 5.5, 1500, 55, 1]);
  });
});
