import { useTranslation } from "react-i18next";
import { bandBadge, levelTone, statusBadge, type Tone } from "../lib/status";

export function Badge({ tone, children }: { tone: Tone; children: React.ReactNode }) {
  return <span className={`badge tone-${tone}`}>{children}</span>;
}

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const { t } = useTranslation();
  const { labelKey, tone } = statusBadge(status);
  return <Badge tone={tone}>{t(labelKey)}</Badge>;
}

export function BandBadge({ band }: { band: string | null | undefined }) {
  const { t } = useTranslation();
  const { labelKey, tone } = bandBadge(band);
  return <Badge tone={tone}>{t(labelKey)}</Badge>;
}

export function LevelBadge({ level }: { level: string }) {
  const { t } = useTranslation();
  return <Badge tone={levelTone(level)}>{t(`level.${level}`, { defaultValue: level })}</Badge>;
}
