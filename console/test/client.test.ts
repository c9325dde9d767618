import { describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError, buildUrl } from "../src/api/client";

function answer(status: number, body: unknown) {
  return new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** A fake list endpoint over `items`, `size` per page, with opaque cursors. */
function pagedServer(items: number[], size: number) {
  const calls: string[] = [];
  const fetchImpl = vi.fn(async (url: string | URL | Request) => {
    const u = new URL(String(url), "http://x");
    calls.push(u.search);
    const start = Number(u.searchParams.get("cursor") ? atob(u.searchParams.get("cursor")!) : 0);
    const page = items.slice(start, start + size);
    const next = start + size < items.length ? btoa(String(start + size)) : null;
    return answer(200, { things: page, next });
  });
  return { fetchImpl, calls };
}

describe("ApiClient paging", () => {
  it("follows next cursors until the last page and keeps the query", async () => {
    const items = Array.from({ length: 23 }, (_, i) => i);
    const server = pagedServer(items, 5);
    const api = new ApiClient("", () => "tok", undefined, server.fetchImpl as unknown as typeof fetch);
    const all = await api.all<number>("/things", "things", { status: "open" });
    expect(all).toEqual(items);
    expect(server.calls.length).toBe(Math.ceil(items.length / 5));
    expect(server.calls.every((q) => q.includes("status=open"))).toBe(true);
    expect(server.calls[0]).not.toContain("cursor=");
  });

  it("stops at maxPages so a server that never ends cannot loop forever", async () => {
    let n = 0;
    const fetchImpl = vi.fn(async () => answer(200, { things: [n], next: `c${++n}` }));
    const api = new ApiClient("", () => null, undefined, fetchImpl as unknown as typeof fetch);
    const all = await api.all<number>("/things", "things", {}, 3);
    expect(all.length).toBe(3);
    expect(fetchImpl).toHaveBeenCalledTimes(3);
  });

  it("sends the bearer token and encodes path segments", async () => {
    const fetchImpl = vi.fn(async () => answer(200, { id: "low_stock#A#wh:x", status: "acked" }));
    const api = new ApiClient("https://api.example", () => "secret", undefined, fetchImpl as unknown as typeof fetch);
    await api.ack("low_stock#A#wh:x");
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("https://api.example/alerts/low_stock%23A%23wh%3Ax/ack");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer secret");
    expect(init.method).toBe("POST");
  });
});

describe("ApiClient errors", () => {
  const call = async (status: number, body: unknown, onUnauthorized = vi.fn()) => {
    const api = new ApiClient("", () => "t", onUnauthorized, (async () => answer(status, body)) as unknown as typeof fetch);
    return api.get("/stock/board").then(() => null, (e: ApiError) => e);
  };

  it("tells a route the API does not have from a missing thing", async () => {
    const missing = await call(404, { error: "not_found", message: "No route for GET /stock/board" });
    const absent = await call(404, { error: "not_found", message: "no forecast for X yet" });
    expect(missing?.kind).toBe("missing_route");
    expect(missing?.route).toBe("GET /stock/board");
    expect(absent?.kind).toBe("not_found");
  });

  it("maps 401 to unauthorized and signs out, 403, 400 and 5xx to their kinds", async () => {
    const onUnauthorized = vi.fn();
    expect((await call(401, { error: "unauthorized", message: "bad token" }, onUnauthorized))?.kind).toBe("unauthorized");
    expect(onUnauthorized).toHaveBeenCalledOnce();
    expect((await call(403, { error: "forbidden", message: "no" }))?.kind).toBe("forbidden");
    expect((await call(400, { error: "validation_error", message: "ratio too big" }))?.message).toBe("ratio too big");
    expect((await call(502, "<html>bad gateway</html>"))?.kind).toBe("server");
  });

  it("reports a network failure as such", async () => {
    const api = new ApiClient("", () => null, undefined, (async () => { throw new TypeError("Failed to fetch"); }) as unknown as typeof fetch);
    await expect(api.get("/warehouses")).rejects.toMatchObject({ kind: "network", status: 0 });
  });
});

describe("buildUrl", () => {
  it("drops empty parameters and joins the base without a double slash", () => {
    expect(buildUrl("https://a.example/", "/stock/board", { q: "", status: "low", cursor: undefined, limit: 50 }))
      .toBe("https://a.example/stock/board?status=low&limit=50");
  });
});

describe("ApiClient imports and discovery", () => {
  it("sends a sheet part as text/csv with its part query, and reads a CSV download as text", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const fetchImpl = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(url), init: init! });
      return String(url).includes("template") ? new Response("\uFEFFsku,name\n", { status: 200 })
        : answer(201, { import_id: "imp-1", status: "ready" });
    });
    const api = new ApiClient("https://api", () => "tok", undefined, fetchImpl as unknown as typeof fetch);
    const job = await api.uploadCatalog("sku\nA\n", { parts: 2, part: 2, first_line: 40, import_id: "imp-1" });
    expect(job.import_id).toBe("imp-1");
    expect(seen[0].url).toBe("https://api/imports/catalog?parts=2&part=2&first_line=40&import_id=imp-1");
    expect(seen[0].init.body).toBe("sku\nA\n");
    expect((seen[0].init.headers as Record<string, string>)["Content-Type"]).toBe("text/csv; charset=utf-8");
    expect(await api.importTemplate("zh")).toBe("sku,name\n");
    expect(seen[1].url).toBe("https://api/imports/template?lang=zh");
    await api.firstSync("shop/ify", "a b", "d-1", { choice: "push" });
    expect(seen[2].url).toBe("https://api/shops/shop%2Fify/a%20b/listings/discover/d-1/first-sync");
    expect(JSON.parse(String(seen[2].init.body))).toEqual({ choice: "push" });
  });

  it("turns a refused upload into an ApiError with the API's message", async () => {
    const fetchImpl = vi.fn(async () => answer(400, { error: "validation_failed", message: "empty body: send the sheet as CSV" }));
    const api = new ApiClient("", () => "tok", undefined, fetchImpl as unknown as typeof fetch);
    await expect(api.uploadCatalog("", { parts: 1, part: 1, first_line: 2 })).rejects.toMatchObject(
      { kind: "invalid", status: 400, message: "empty body: send the sheet as CSV" });
  });
});
