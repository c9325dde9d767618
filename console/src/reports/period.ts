/** Report periods: a preset ending today, or a custom range (inclusive, local calendar days). */
import { isoDay } from "../lib/format";

export const PRESETS = ["7d", "30d", "90d", "365d", "month", "custom"] as const;
export type Preset = (typeof PRESETS)[number];

export function periodFor(preset: Preset, today: Date): { from: string; to: string } {
  const to = isoDay(today);
  if (preset === "month") return { from: isoDay(new Date(today.getFullYear(), today.getMonth(), 1)), to };
  const days = preset === "custom" ? 30 : Number(preset.replace("d", ""));
  return { from: isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1))), to };
}
