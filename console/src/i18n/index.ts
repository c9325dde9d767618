/** zh-CN and en: the language is the one last chosen here, else the browser's first language we have. */
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import { en } from "./en";
import { zhCN } from "./zh-CN";

export const LANGUAGES = ["en", "zh-CN"] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = "stocklink.lang";

export function detectLanguage(stored: string | null, browser: readonly string[]): Language {
  if (stored && (LANGUAGES as readonly string[]).includes(stored)) return stored as Language;
  for (const tag of browser) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export function initI18n(language?: Language) {
  let stored: string | null = null;
  try { stored = localStorage.getItem(STORAGE_KEY); } catch { /* storage may be off */ }
  const lng = language ?? detectLanguage(stored, typeof navigator === "undefined" ? [] : navigator.languages ?? [navigator.language]);
  void i18n.use(initReactI18next).init({
    resources: { en: { translation: en }, "zh-CN": { translation: zhCN } },
    lng,
    fallbackLng: "en",
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
  });
  document.documentElement.lang = lng;
  return i18n;
}

export function changeLanguage(lng: Language) {
  try { localStorage.setItem(STORAGE_KEY, lng); } catch { /* storage may be off */ }
  document.documentElement.lang = lng;
  return i18n.changeLanguage(lng);
}

export default i18n;
