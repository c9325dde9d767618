import { useTranslation } from "react-i18next";
import { Badge } from "../components/Badge";
import type { Tone } from "../lib/status";

const TONES: Record<string, Tone> = {
  draft: "muted", ordered: "info", paid: "info", producing: "info", shipped: "warn", picked: "warn",
  received: "ok", cancelled: "muted", closed: "muted",
};

/** A purchase order's or a transfer's status (`family` names the i18n group). */
export function PoStatusBadge({ status, family = "purchaseOrders" }: { status: string; family?: "purchaseOrders" | "transfers" }) {
  const { t } = useTranslation();
  return <Badge tone={TONES[status] ?? "muted"}>{t(`${family}.status.${status}`, { defaultValue: status })}</Badge>;
}
