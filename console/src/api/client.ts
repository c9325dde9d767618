/**
 * The console's one door to the StockLink API: typed calls, bearer auth, `next` cursors followed, and errors
 * turned into ApiError (a route this StockLink does not have yet is told apart from other failures, so a view
 * can say so in plain words instead of crashing).
 */

export type Query = Record<string, string | number | boolean | null | undefined>;

export type ApiErrorKind = "missing_route" | "unauthorized" | "forbidden" | "not_found" | "invalid" | "server" | "network";

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    readonly status: number,
    readonly route: string,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

// --- shapes (what the API answers; objects are open: unknown fields are ignored) ------------------------------
export type StockStatus = "normal" | "low" | "zero" | "over";
export type Band = "healthy" | "watch" | "problem";
export interface Levels { on_hand: number; reserved: number; available: number; in_transit: number }
export interface Warehouse { warehouse_id: string; name: string; region?: string; priority?: number }
export interface WarehouseSummary extends Levels {
  warehouse_id: string; name: string; skus: number; stock_value: number | null; in_transit_value: number | null;
}
export interface BoardRow extends Levels {
  sku: string; name: string; days_of_cover: number | null; status: StockStatus; abc: "A" | "B" | "C" | null;
  safety_stock: number | null;
  presold?: number; // units sold against stock on its way (presale), part of in_transit
}
export interface Board {
  rows: BoardRow[]; counts: Record<StockStatus, number>; total: number; next: string | null;
  settings?: { low_floor: number; over_days: number };
}
export interface StockView { sku: string; warehouses: (Levels & { warehouse_id: string })[]; totals: Levels }
export interface LedgerEntry {
  entry_id: string; sku: string; warehouse_id: string; movement: string; qty: number; on_hand_delta: number;
  reserved_delta: number; available_delta: number; actor: string | null; reason: string | null;
  source: string | null; created_at: number;
}
export interface Explain {
  pool: number; reserved: number; buffer: number; rule: string; rule_adjustment: number;
  /** null, or "<code>: <English sentence>" (code sync_off or last_units) when something holds the number back */
  guard: string | null;
  shown: number | null;
}
export interface ChannelListing {
  platform: string; shop: string; listing_id: string; components?: { sku: string; qty: number }[];
  rule?: string; sync?: boolean; computed_qty?: number | null; pushed_qty?: number | null;
  pushed_at?: number | null; shown?: number | null; read_back_qty?: number | null; read_back_at?: number | null;
  in_sync?: boolean | null; status?: string | null; error?: string | null; explain?: Explain;
}
export interface SkuChannels {
  sku: string; listings: ChannelListing[];
  allocation: {
    mode?: string; why?: string; reason?: "sale_declared" | "guard_off" | "at_risk" | "above_threshold" | string;
    available?: number; at_risk_at_or_below?: number; k?: number; min_units_per_channel?: number;
    sale_declared_until?: string | null; [k: string]: unknown;
  };
}
export interface Forecast {
  sku: string; as_of?: string; forecast_start?: string; forecast?: (number | null)[]; history?: number[];
  history_start?: string | null; safety_stock?: number; reorder_point?: number; inventory_position?: number;
  stockout_date?: string | null; method?: string; suggested_order_qty?: number; lead_time_days?: number;
}
export interface Alert {
  id: string; kind: string; level: string; status: "open" | "acked" | "closed"; sku?: string | null;
  scope?: string | null; title?: string | null; action?: string | null; since?: number; updated_at?: number;
  version?: number; acked_by?: string | null; facts?: Record<string, unknown>;
  suggested_transfer?: { from_warehouse: string; qty: number } | null;
}
export interface Subscription { id: string; protocol: string; name: string; filter?: Record<string, unknown> }
export interface Allocation {
  platform: string; shop: string; rule: "shared" | "quota" | "fixed"; buffer: number;
  buffer_mode: "static" | "dynamic"; ratio: number; minimum: number; fixed: number; min_display: number;
  max_display: number | null; sellout_threshold: number; sync: boolean; warehouses: string[] | null;
  /** Presale (预售): also sell units on their way that arrive within `within_days` days (off by default). */
  presale?: { enabled: boolean; within_days: number };
}
export interface ShopHealth {
  last_push_at: number | null; failures: number; listings: number; in_sync: number; rate_limit_use: number | null;
  reconciliation_accuracy: number | null; needs_person: number;
}
export interface Shop {
  platform: string; shop: string; sync?: boolean; rule?: string; allocation?: Partial<Allocation>;
  health?: ShopHealth;
}
export interface InboundEvent {
  event_key: string; kind: string | null; status: string; received_at?: unknown; platform?: string | null;
  shop?: string | null; order_id?: string | null; reservation_id?: string | null;
}
export interface Suggestion {
  sku: string; as_of?: string; stockout_date: string | null; stockout_within_lead_time: boolean;
  lead_time_days: number; suggested_order_qty: number; order_unit_cost: number | null; order_reason?: string;
  reorder_point?: number; safety_stock?: number; inventory_position?: number; abc_class?: string | null;
  supplier?: string | null; unit_cost?: number | null; unit_cost_source?: "price_break" | "sku" | null;
  order_cost?: number | null; supplier_terms?: SupplierTerms | null;
}
export interface SupplierTerms {
  lead_time_days?: number; lead_time_std_days?: number; review_period_days?: number; moq?: number; case_pack?: number;
  price_breaks?: { min_qty: number; unit_cost: number }[];
}
export interface ReportInfo { name: string; title_en: string; title_zh: string }
export type ColumnType = "text" | "int" | "number" | "percent" | "money" | "date";
export interface Report {
  name: string; from: string; to: string;
  summary: { value: number | null; band: Band | null; thresholds?: Record<string, unknown> };
  columns: { key: string; type: ColumnType }[]; rows: Record<string, unknown>[]; next: string | null;
}

// --- purchasing: suppliers, purchase orders, transfers ---------------------------------------------------------
export interface Contact { name: string; email: string; phone: string }
export interface SupplierRecord {
  supplier_id: string; name: string; currency: string | null; contact: Contact; lead_time_days: number;
  lead_time_spread_days: number; moq: number; case_pack: number; payment_terms: string; active: boolean;
  updated_at?: number; source?: string;
}
export type SupplierBody = Omit<SupplierRecord, "supplier_id" | "updated_at" | "source">;
export interface QuoteBreak { min_qty: number; unit_price: number }
export interface Quote {
  sku: string; supplier_id: string; price_breaks: QuoteBreak[]; currency: string | null;
  terms: { lead_time_days: number; lead_time_spread_days: number; moq: number; case_pack: number };
  moq?: number | null; case_pack?: number | null; lead_time_days?: number | null; lead_time_spread_days?: number | null;
}
export interface QuoteBody {
  price_breaks: QuoteBreak[]; moq?: number; case_pack?: number; lead_time_days?: number; lead_time_spread_days?: number;
}
export interface ScorecardFigures {
  window: { from_month: string; to_month: string }; receipts: number; on_time_rate: number | null;
  late_receipts: number; mean_days_late: number | null; lead_time_days: { mean: number; spread: number } | null;
  quoted_lead_time_days: { mean: number; spread: number }; received_units: number; rejected_units: number;
  reject_rate: number | null; price_index: number | null; priced_receipts: number;
  blended: { on_time_rate: number; lead_time_days: number; lead_time_spread_days: number; reject_rate: number; prior_weight: number };
}
export interface Scorecard extends ScorecardFigures { supplier_id: string; name: string; currency: string | null }
export interface SkuSupplier {
  supplier_id: string; name: string; active: boolean; currency: string | null; quote: Quote; order_qty: number;
  unit_price: number | null; scorecard: ScorecardFigures; score: number | null;
  factors: { price: number; speed: number; quality: number } | null;
}
export interface SkuSuppliers {
  sku: string; reference_qty: number; weights: { price: number; speed: number; quality: number };
  recommended: string | null; chosen: string | null; suppliers: SkuSupplier[];
}
export interface HistoryEntry { status: string; at: number; by?: string | null; note?: string | null; eta?: string | null }
export type PoStatus = "draft" | "ordered" | "paid" | "producing" | "shipped" | "received" | "cancelled" | "closed";
export interface PoLine {
  line: number; sku: string; qty: number; unit_price: number | null; promised_date: string | null; shipped: number;
  received: number; rejected: number; on_the_way: number;
}
export interface PurchaseOrder {
  po_id: string; supplier_id: string; warehouse_id: string; currency: string | null; status: PoStatus;
  eta: string | null; created_at: number; created_by: string; lines: PoLine[]; history: HistoryEntry[]; total: number;
  note?: string | null; receipts?: Record<string, unknown>[]; receipt?: { reference: string; duplicate: boolean };
}
export interface ReceiptBody {
  reference: string; lines: { line: number; received: number; rejected?: number; reject_reason?: string }[];
  accept_over_receipt?: boolean;
}
export type TransferStatus = "draft" | "picked" | "received" | "cancelled";
export interface TransferLine { line: number; sku: string; qty: number; received: number; lost: number; loss_reason?: string | null }
export interface Transfer {
  transfer_id: string; from_warehouse: string; to_warehouse: string; status: TransferStatus; transit_days: number;
  cost_per_unit: number | null; eta: string | null; created_at: number; created_by: string; lines: TransferLine[];
  history: HistoryEntry[]; note?: string | null;
}
export interface Lane { from_warehouse: string; to_warehouse: string; transit_days: number; cost_per_unit: number | null }
export interface TransferSuggestion {
  sku: string; from_warehouse: string; to_warehouse: string; qty: number; transit_days: number;
  cost_per_unit: number | null; total_cost: number | null; prevents_stockout_on: string; days_of_cover_before: number;
  days_of_cover_after: number; donor_days_of_cover_after: number | null; lane_configured: boolean;
}
export interface TransferSuggestions { as_of: string; donor_days: number; demand_days: number; suggestions: TransferSuggestion[] }

// --- transport ----------------------------------------------------------------------------------------------
export type Fetch = typeof fetch;

export function buildUrl(base: string, path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return `${base.replace(/\/$/, "")}${path}${qs ? `?${qs}` : ""}`;
}

/** A path segment from a value (alert ids carry '#', SKUs may carry '/'). */
export const seg = (value: string) => encodeURIComponent(value);

function kindOf(status: number, code: string | null, message: string): ApiErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404 && code === "not_found" && message.startsWith("No route for")) return "missing_route";
  if (status === 404 || status === 405) return status === 405 ? "missing_route" : "not_found";
  if (status >= 400 && status < 500) return "invalid";
  return "server";
}

export class ApiClient {
  constructor(
    private readonly base: string,
    private readonly token: () => string | null,
    private readonly onUnauthorized: () => void = () => {},
    private readonly fetchImpl: Fetch = (...args) => fetch(...args),
  ) {}

  async request<T>(method: string, path: string, query: Query = {}, body?: unknown): Promise<T> {
    const route = `${method} ${path}`;
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(buildUrl(this.base, path, query), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError("network", 0, route, err instanceof Error ? err.message : String(err));
    }
    const text = await response.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const obj = (data && typeof data === "object" ? data : {}) as { error?: string; message?: string };
      const message = obj.message || text.slice(0, 200) || response.statusText;
      const kind = kindOf(response.status, obj.error ?? null, message);
      if (kind === "unauthorized") this.onUnauthorized();
      throw new ApiError(kind, response.status, route, message, obj.error ?? null);
    }
    return data as T;
  }

  get<T>(path: string, query?: Query) { return this.request<T>("GET", path, query); }
  put<T>(path: string, body: unknown) { return this.request<T>("PUT", path, {}, body); }
  post<T>(path: string, body?: unknown) { return this.request<T>("POST", path, {}, body ?? {}); }
  delete<T>(path: string) { return this.request<T>("DELETE", path); }

  /** One page of a list answer `{<key>: [...], next}`. */
  async page<T>(path: string, key: string, query: Query = {}): Promise<Page<T> & { raw: Record<string, unknown> }> {
    const raw = await this.get<Record<string, unknown>>(path, query);
    return { items: (raw[key] as T[]) ?? [], next: (raw.next as string | null) ?? null, raw };
  }

  /** Every item of a list, following `next` until it is null (bounded by maxPages so a loop cannot run away). */
  async all<T>(path: string, key: string, query: Query = {}, maxPages = 50): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < maxPages; n += 1) {
      const page: Page<T> = await this.page<T>(path, key, { ...query, cursor: cursor ?? undefined });
      items.push(...page.items);
      if (!page.next || page.next === cursor) return items;
      cursor = page.next;
    }
    return items;
  }

  // --- the routes the console uses ---------------------------------------------------------------------------
  warehouses() { return this.all<Warehouse>("/warehouses", "warehouses", { limit: 1000 }); }
  warehouseSummary() { return this.get<{ warehouses: WarehouseSummary[] }>("/warehouses/summary"); }
  board(query: Query) { return this.get<Board>("/stock/board", query); }
  stock(sku: string) { return this.get<StockView>(`/skus/${seg(sku)}/stock`); }
  channels(sku: string) { return this.get<SkuChannels>(`/skus/${seg(sku)}/channels`); }
  ledger(sku: string, cursor: string | null, limit = 25) {
    return this.page<LedgerEntry>("/ledger", "entries", { sku, limit, cursor: cursor ?? undefined });
  }
  forecast(sku: string) { return this.get<Forecast>(`/forecasts/${seg(sku)}`); }
  alerts(status = "open") { return this.all<Alert>("/alerts", "alerts", { status, limit: 1000 }); }
  ack(id: string) { return this.post<Alert>(`/alerts/${seg(id)}/ack`); }
  subscriptions() { return this.all<Subscription>("/subscriptions", "subscriptions", { limit: 1000 }); }
  putSubscription(id: string, body: Record<string, unknown>) { return this.put<Subscription>(`/subscriptions/${seg(id)}`, body); }
  deleteSubscription(id: string) { return this.delete<{ deleted: string }>(`/subscriptions/${seg(id)}`); }
  shops() { return this.all<Shop>("/shops", "shops", { limit: 1000 }); }
  allocation(platform: string, shop: string) {
    return this.get<Allocation>(`/shops/${seg(platform)}/${seg(shop)}/allocation`);
  }
  putAllocation(platform: string, shop: string, body: Omit<Allocation, "platform" | "shop">) {
    return this.put<Allocation>(`/shops/${seg(platform)}/${seg(shop)}/allocation`, body);
  }
  listings(platform: string, shop: string) {
    return this.all<ChannelListing>("/listings", "listings", { platform, shop, limit: 1000 }, 20);
  }
  events(status: string) { return this.all<InboundEvent>("/events", "events", { status, limit: 1000 }, 5); }
  replenishment() { return this.all<Suggestion>("/replenishment", "suggestions", { limit: 1000 }); }
  reports() { return this.get<{ reports: ReportInfo[] } | ReportInfo[]>("/reports"); }
  report(name: string, query: Query) { return this.get<Report>(`/reports/${seg(name)}`, query); }
  // purchasing
  suppliers(active?: boolean) {
    return this.all<SupplierRecord>("/suppliers", "suppliers", { limit: 1000, active: active === undefined ? undefined : String(active) });
  }
  supplier(id: string) { return this.get<SupplierRecord>(`/suppliers/${seg(id)}`); }
  putSupplier(id: string, body: SupplierBody) { return this.put<SupplierRecord>(`/suppliers/${seg(id)}`, body); }
  putQuote(id: string, sku: string, body: QuoteBody) { return this.put<Quote>(`/suppliers/${seg(id)}/quotes/${seg(sku)}`, body); }
  scorecard(id: string) { return this.get<Scorecard>(`/suppliers/${seg(id)}/scorecard`); }
  skuSuppliers(sku: string) { return this.get<SkuSuppliers>(`/skus/${seg(sku)}/suppliers`); }
  purchaseOrders(status: string | null, cursor: string | null, limit = 50) {
    return this.page<PurchaseOrder>("/purchase-orders", "purchase_orders", { status, limit, cursor });
  }
  purchaseOrder(id: string) { return this.get<PurchaseOrder>(`/purchase-orders/${seg(id)}`); }
  posFromSuggestions(body: { warehouse_id: string; skus: string[]; supplier_id?: string }) {
    return this.post<{ purchase_orders: PurchaseOrder[] }>("/purchase-orders/from-suggestions", body);
  }
  poStatus(id: string, status: string, note?: string) {
    return this.post<PurchaseOrder>(`/purchase-orders/${seg(id)}/status`, note ? { status, note } : { status });
  }
  shipPo(id: string, body: { eta: string; lines?: { line: number; qty: number }[]; note?: string }) {
    return this.post<PurchaseOrder>(`/purchase-orders/${seg(id)}/ship`, body);
  }
  receivePo(id: string, body: ReceiptBody) { return this.post<PurchaseOrder>(`/purchase-orders/${seg(id)}/receipts`, body); }
  transferSuggestions() { return this.get<TransferSuggestions>("/transfers/suggestions"); }
  transfers(status: string | null, cursor: string | null, limit = 50) {
    return this.page<Transfer>("/transfers", "transfers", { status, limit, cursor });
  }
  createTransfer(body: { from_warehouse: string; to_warehouse: string; lines: { sku: string; qty: number }[]; note?: string }) {
    return this.post<Transfer>("/transfers", body);
  }
  transferAction(id: string, action: "pick" | "cancel") { return this.post<Transfer>(`/transfers/${seg(id)}/${action}`, {}); }
  receiveTransfer(id: string, lines: { line: number; received: number; loss_reason?: string }[]) {
    return this.post<Transfer>(`/transfers/${seg(id)}/receive`, lines.length ? { lines } : {});
  }
  lanes() { return this.get<{ lanes: Lane[] }>("/transfer-lanes"); }
  putLane(from: string, to: string, body: { transit_days: number; cost_per_unit?: number | null }) {
    return this.put<Lane>(`/transfer-lanes/${seg(from)}/${seg(to)}`, body);
  }
}
