import { describe, expect, it } from "vitest";
import type { Allocation } from "../src/api/client";
import { allocationToForm, validateAllocation, validateSubscription } from "../src/lib/validation";

const SAVED: Allocation = {
  platform: "tiktok", shop: "demo", rule: "quota", buffer: 2, buffer_mode: "static", ratio: 0.5, minimum: 1, fixed: 0,
  min_display: 0, max_display: null, sellout_threshold: 0, sync: true, warehouses: null,
  presale: { enabled: false, within_days: 7 },       // the API answers it since presale (GET .../allocation)
};

describe("allocation form", () => {
  it("round-trips a saved allocation into the same request body", () => {
    const checked = validateAllocation(allocationToForm(SAVED));
    const { platform: _p, shop: _s, ...body } = SAVED;
    expect(checked).toEqual({ ok: true, body });
  });

  it("reads warehouses as a list and an empty cap as no cap", () => {
    const checked = validateAllocation({ ...allocationToForm(SAVED), warehouses: " wh-a, ,wh-b ", max_display: " " });
    expect(checked.ok && checked.body.warehouses).toEqual(["wh-a", "wh-b"]);
    expect(checked.ok && checked.body.max_display).toBeNull();
  });

  it("names each wrong field with the reason, as the API's limits say", () => {
    const form = { ...allocationToForm(SAVED), buffer: "-1", ratio: "1.5", minimum: "2.5", fixed: "2000000",
      min_display: "10", max_display: "5", rule: "greedy" };
    const checked = validateAllocation(form);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.errors).toEqual({
      buffer: "validation.wholeNumber", ratio: "validation.ratio", minimum: "validation.wholeNumber",
      fixed: "validation.tooLarge", max_display: "validation.maxBelowMin", rule: "validation.choose",
    });
  });

  it("accepts the boundaries", () => {
    const form = { ...allocationToForm(SAVED), ratio: "0", buffer: "1000000", min_display: "5", max_display: "5" };
    expect(validateAllocation(form).ok).toBe(true);
    expect(validateAllocation({ ...form, ratio: "" }).ok).toBe(false);
  });
});

describe("subscription form", () => {
  it("checks the address by channel", () => {
    expect(validateSubscription({ id: "ops", protocol: "email", endpoint: "ops@example.com", name: "" })).toEqual({});
    expect(validateSubscription({ id: "ops", protocol: "email", endpoint: "ops", name: "" })).toEqual({ endpoint: "validation.email" });
    expect(validateSubscription({ id: "p", protocol: "sms", endpoint: "+8613800000000", name: "" })).toEqual({});
    expect(validateSubscription({ id: "p", protocol: "sms", endpoint: "13800000000", name: "" })).toEqual({ endpoint: "validation.phone" });
    expect(validateSubscription({ id: "c", protocol: "slack", endpoint: "http://hooks", name: "" })).toEqual({ endpoint: "validation.https" });
    expect(validateSubscription({ id: "bad id!", protocol: "fax", endpoint: "", name: "" }))
      .toEqual({ id: "validation.subscriptionId", protocol: "validation.choose", endpoint: "validation.required" });
  });
});
