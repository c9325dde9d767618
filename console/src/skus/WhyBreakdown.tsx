/** Why a listing shows its number: pool − reserved − buffer ± rule − guard = shown, each term linked to where it
 * is set (stock and ledger on this page, the shop's allocation on the channels page). */
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { ChannelListing } from "../api/client";
import { fmtNumber } from "../lib/format";

export function WhyBreakdown({ listing }: { listing: ChannelListing }) {
  const { t, i18n } = useTranslation();
  const e = listing.explain;
  if (!e) return <span className="muted">{t("sku.noExplain")}</span>;
  const n = (v: number) => fmtNumber(v, i18n.language);
  const shop = `/channels?platform=${encodeURIComponent(listing.platform)}&shop=${encodeURIComponent(listing.shop)}`;
  const adjustment = e.rule_adjustment;
  return (
    <span className="why" data-why={`${listing.platform}/${listing.shop}/${listing.listing_id}`}>
      <a href="#stock" title={t("sku.why.pool")}>{n(e.pool)}</a>
      {" − "}<a href="#ledger" title={t("sku.why.reserved")}>{n(e.reserved)}</a>
      {" − "}<Link to={shop} title={t("sku.why.buffer")}>{n(e.buffer)}</Link>
      {" "}{adjustment < 0 ? "−" : "+"}{" "}
      <Link to={shop} title={t("sku.why.rule", { rule: e.rule })}>{n(Math.abs(adjustment))}</Link>
      {" − "}<span title={t("sku.why.guard")}>{n(e.guard)}</span>
      {" = "}<strong>{n(e.shown)}</strong>
    </span>
  );
}
