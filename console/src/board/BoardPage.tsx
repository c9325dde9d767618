/** 库存看板: every SKU with its levels and status, the counts per status on top; filters, sort and cursor pages. */
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import type { BoardRow } from "../api/client";
import { useApp } from "../AppContext";
import { DataTable, type Column } from "../components/DataTable";
import { StatusBadge } from "../components/Badge";
import { ErrorState, Loading } from "../components/States";
import { useLoad } from "../components/useLoad";
import { fmtNumber } from "../lib/format";
import { STATUSES } from "../lib/status";

const SORTS = ["sku", "available", "days_of_cover", "on_hand", "presold", "status"] as const;
const PAGE_SIZE = 50;

export function BoardPage() {
  const { t, i18n } = useTranslation();
  const { api } = useApp();
  const [params, setParams] = useSearchParams();
  const filters = {
    warehouse_id: params.get("warehouse_id") ?? "", status: params.get("status") ?? "", abc: params.get("abc") ?? "",
    q: params.get("q") ?? "", sort: params.get("sort") ?? "sku", order: params.get("order") ?? "asc",
  };
  const [cursors, setCursors] = useState<(string | null)[]>([null]); // cursors of the pages seen, for "previous"
  const cursor = cursors[cursors.length - 1];
  const [text, setText] = useState(filters.q);
  const warehouses = useLoad(() => api.warehouses(), [api]);
  const board = useLoad(() => api.board({ ...filters, limit: PAGE_SIZE, cursor: cursor ?? undefined }),
    [api, params.toString(), cursor]);

  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value); else next.delete(key);
    setParams(next);
    setCursors([null]);
  };
  const columns: Column<BoardRow>[] = [
    { key: "sku", label: t("fields.sku"), render: (r) => <Link to={`/skus/${encodeURIComponent(r.sku)}`}>{r.sku}</Link> },
    { key: "name", label: t("fields.name") },
    { key: "on_hand", label: t("fields.on_hand"), type: "int" },
    { key: "reserved", label: t("fields.reserved"), type: "int" },
    { key: "available", label: t("fields.available"), type: "int" },
    { key: "in_transit", label: t("fields.in_transit"), type: "int" },
    { key: "presold", label: t("fields.presold"), type: "int" },
    { key: "days_of_cover", label: t("fields.days_of_cover"), type: "number" },
    { key: "status", label: t("fields.status"), render: (r) => <StatusBadge status={r.status} /> },
    { key: "abc", label: t("fields.abc") },
    { key: "safety_stock", label: t("fields.safety_stock"), type: "int" },
  ];
  return (
    <section aria-labelledby="board-title">
      <h1 id="board-title">{t("board.title")}</h1>
      {board.data && (
        <ul className="counts" aria-label={t("board.counts")}>
          {STATUSES.map((s) => (
            <li key={s} data-status={s}>
              <button type="button" className={filters.status === s ? "active" : ""}
                      onClick={() => set("status", filters.status === s ? "" : s)}>
                <StatusBadge status={s} /> <strong data-count={s}>{fmtNumber(board.data!.counts?.[s] ?? 0, i18n.language)}</strong>
              </button>
            </li>
          ))}
          <li>{t("board.total", { count: board.data.total })}</li>
        </ul>
      )}
      <form className="filters" role="search" aria-label={t("board.filters")} onSubmit={(e) => { e.preventDefault(); set("q", text.trim()); }}>
        <label>{t("fields.warehouse")}
          <select value={filters.warehouse_id} onChange={(e) => set("warehouse_id", e.target.value)}>
            <option value="">{t("board.allWarehouses")}</option>
            {(warehouses.data ?? []).map((w) => <option key={w.warehouse_id} value={w.warehouse_id}>{w.name || w.warehouse_id}</option>)}
          </select>
        </label>
        <label>{t("fields.status")}
          <select value={filters.status} onChange={(e) => set("status", e.target.value)}>
            <option value="">{t("board.anyStatus")}</option>
            {STATUSES.map((s) => <option key={s} value={s}>{t(`status.${s}`)}</option>)}
          </select>
        </label>
        <label>{t("fields.abc")}
          <select value={filters.abc} onChange={(e) => set("abc", e.target.value)}>
            <option value="">{t("board.anyAbc")}</option>
            {["A", "B", "C"].map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        </label>
        <label>{t("board.sortBy")}
          <select value={filters.sort} onChange={(e) => set("sort", e.target.value)}>
            {SORTS.map((s) => <option key={s} value={s}>{t(`fields.${s}`)}</option>)}
          </select>
        </label>
        <label>{t("board.order")}
          <select value={filters.order} onChange={(e) => set("order", e.target.value)}>
            <option value="asc">{t("board.asc")}</option>
            <option value="desc">{t("board.desc")}</option>
          </select>
        </label>
        <label>{t("board.search")}
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder={t("board.searchHint")} />
        </label>
        <button type="submit">{t("actions.search")}</button>
      </form>
      {board.loading && <Loading />}
      {board.error ? <ErrorState error={board.error} onRetry={board.reload} /> : board.data && (
        <>
          <DataTable name="stock-board" caption={t("board.title")} columns={columns} rows={board.data.rows ?? []}
                     rowKey={(r) => r.sku}
                     empty={filters.q || filters.status || filters.abc || filters.warehouse_id ? t("board.noMatch") : t("board.empty")} />
          <div className="pager">
            <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              {t("actions.previous")}
            </button>
            <span>{t("board.page", { page: cursors.length })}</span>
            <button type="button" disabled={!board.data.next}
                    onClick={() => setCursors([...cursors, board.data!.next])}>{t("actions.next")}</button>
          </div>
        </>
      )}
    </section>
  );
}
