/** Why a listing shows its number: pool − reserved − buffer ± rule = shown (and the guard, in words, when one holds it back), each term linked to where it
 * is set (stock and ledger on this page, the shop's allocation on the channels page). */
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import type { ChannelListing } from "../api/client";
import { fmtNumber } from "../lib/format";

export function WhyBreakdown({ listing }: { listing: ChannelListing }) {
  const { t, i18n } = useTranslation();
  const e = listing.explain;
  if (!e) return <span className="muted">{t("sku.noExplain")}</span>;
  const n = (v: number | null) => fmtNumber(v, i18n.language);
  const shop = `/channels?platform=${encodeURIComponent(listing.platform)}&shop=${encodeURIComponent(listing.shop)}`;
  const adjustment = e.rule_adjustment;
  const guard = guardText(e.guard, t);
  return (
    <span className="why" data-why={`${listing.platform}/${listing.shop}/${listing.listing_id}`}>
      <a href="#stock" title={t("sku.why.pool")}>{n(e.pool)}</a>
      {" − "}<a href="#ledger" title={t("sku.why.reserved")}>{n(e.reserved)}</a>
      {" − "}<Link to={shop} title={t("sku.why.buffer")}>{n(e.buffer)}</Link>
      {" "}{adjustment < 0 ? "−" : "+"}{" "}
      <Link to={shop} title={t("sku.why.rule", { rule: e.rule })}>{n(Math.abs(adjustment))}</Link>
      {" = "}<strong>{n(e.shown)}</strong>
      {guard && <>{" ("}<span className="guard" title={t("sku.why.guard")} data-guard={guard.code}>{guard.text}</span>{")"}</>}
    </span>
  );
}

/** The explain's guard, "<code>: <English sentence>", in the console's language (the API's text for an unknown code). */
export function guardText(guard: string | null | undefined, t: TFunction): { code: string; text: string } | null {
  if (!guard) return null;
  const code = guard.split(":", 1)[0];
  return { code, text: code === "sync_off" || code === "last_units" ? t(`sku.guards.${code}`) : guard };
}
