import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router";
import { useTranslation } from "react-i18next";
import { ApiClient } from "./api/client";
import { AppContext, useApp } from "./AppContext";
import { logoutUrl } from "./auth/pkce";
import { clearSession, isLive, loadSession, newSession, saveSession, type Session } from "./auth/session";
import { Callback, SignIn } from "./auth/SignIn";
import type { ConsoleConfig } from "./config";
import { changeLanguage, LANGUAGES, type Language } from "./i18n";
import { Loading } from "./components/States";
import { showsPage } from "./auth/roles";

// One chunk per page: the charts (ECharts) load only with the pages that draw them.
const BoardPage = lazy(() => import("./board/BoardPage").then((m) => ({ default: m.BoardPage })));
const SkuPage = lazy(() => import("./skus/SkuPage").then((m) => ({ default: m.SkuPage })));
const WarehousesPage = lazy(() => import("./warehouses/WarehousesPage").then((m) => ({ default: m.WarehousesPage })));
const ChannelsPage = lazy(() => import("./channels/ChannelsPage").then((m) => ({ default: m.ChannelsPage })));
const AlertsPage = lazy(() => import("./alerts/AlertsPage").then((m) => ({ default: m.AlertsPage })));
const ReplenishmentPage = lazy(() => import("./replenishment/ReplenishmentPage").then((m) => ({ default: m.ReplenishmentPage })));
const PurchaseOrdersPage = lazy(() => import("./purchasing/PurchaseOrdersPage").then((m) => ({ default: m.PurchaseOrdersPage })));
const PoDetailPage = lazy(() => import("./purchasing/PoDetail").then((m) => ({ default: m.PoDetailPage })));
const PoPrintPage = lazy(() => import("./purchasing/PoPrint").then((m) => ({ default: m.PoPrintPage })));
const SuppliersPage = lazy(() => import("./suppliers/SuppliersPage").then((m) => ({ default: m.SuppliersPage })));
const SupplierPage = lazy(() => import("./suppliers/SupplierPage").then((m) => ({ default: m.SupplierPage })));
const TransfersPage = lazy(() => import("./transfers/TransfersPage").then((m) => ({ default: m.TransfersPage })));
const ImportPage = lazy(() => import("./imports/ImportPage").then((m) => ({ default: m.ImportPage })));
const ConnectListingsPage = lazy(() => import("./discovery/ConnectListingsPage").then((m) => ({ default: m.ConnectListingsPage })));
const ReportsPage = lazy(() => import("./reports/ReportsPage").then((m) => ({ default: m.ReportsPage })));

export function App({ config }: { config: ConsoleConfig }) {
  const [session, setSession] = useState<Session | null>(() => loadSession(localStorage, Date.now()));
  const signOut = useCallback(() => {
    clearSession(localStorage);
    setSession(null);
  }, []);
  const signIn = useCallback((token: string, source: Session["source"], roles?: string[]) => {
    const s = newSession(token, source, Date.now(), roles);
    saveSession(localStorage, s);
    setSession(s);
  }, []);
  // The session ends at its expiry even if the page stays open.
  useEffect(() => {
    if (!session) return;
    const ms = session.expiresAt - Date.now();
    if (ms <= 0) { signOut(); return; }
    const timer = setTimeout(signOut, Math.min(ms, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [session, signOut]);
  const api = useMemo(() => new ApiClient(
    config.apiBase,
    () => { const s = loadSession(localStorage, Date.now()); return isLive(s, Date.now()) ? s.token : null; },
    signOut,
  ), [config.apiBase, signOut]);
  const state = useMemo(() => ({ config, api, session, signIn, signOut }), [config, api, session, signIn, signOut]);
  return (
    <AppContext.Provider value={state}>
      <BrowserRouter basename="/console">
        <Routes>
          <Route path="/signin" element={<SignIn />} />
          <Route path="/callback" element={<Callback />} />
          <Route path="*" element={session ? <Shell /> : <ToSignIn />} />
        </Routes>
      </BrowserRouter>
    </AppContext.Provider>
  );
}

function ToSignIn() {
  const location = useLocation();
  return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
}

const NAV = [
  ["/", "nav.board"], ["/warehouses", "nav.warehouses"], ["/channels", "nav.channels"], ["/alerts", "nav.alerts"],
  ["/replenishment", "nav.replenishment"], ["/purchase-orders", "nav.purchaseOrders"], ["/suppliers", "nav.suppliers"],
  ["/transfers", "nav.transfers"], ["/reports", "nav.reports"], ["/import", "nav.import"], ["/connect", "nav.connect"],
] as const;

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="lang">
      <span>{t("nav.language")}</span>
      <select value={i18n.language} onChange={(e) => void changeLanguage(e.target.value as Language)}
              data-testid="language">
        {LANGUAGES.map((l) => <option key={l} value={l}>{t(`languages.${l}`)}</option>)}
      </select>
    </label>
  );
}

/** Straight to a SKU's page by its code (works before the board's API exists). */
function SkuJump() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [sku, setSku] = useState("");
  return (
    <form className="sku-jump" role="search" aria-label={t("nav.openSku")} onSubmit={(e) => { e.preventDefault(); if (sku.trim()) navigate(`/skus/${encodeURIComponent(sku.trim())}`); }}>
      <label htmlFor="sku-jump" className="visually-hidden">{t("nav.openSku")}</label>
      <input id="sku-jump" value={sku} onChange={(e) => setSku(e.target.value)} placeholder={t("nav.openSku")} />
      <button type="submit">{t("actions.open")}</button>
    </form>
  );
}

function Shell() {
  const { t } = useTranslation();
  const { session, signOut, config } = useApp();
  const out = () => {
    signOut();
    if (config.auth.mode === "cognito") {
      window.location.assign(logoutUrl(config.auth, `${window.location.origin}/console/signin`));
    }
  };
  return (
    <div className="shell">
      <header>
        <span className="brand">{t("app.name")}</span>
        <nav aria-label={t("nav.main")}>
          {NAV.filter(([to]) => showsPage(session?.roles, to)).map(([to, key]) => <NavLink key={to} to={to} end={to === "/"}>{t(key)}</NavLink>)}
        </nav>
        <SkuJump />
        <div className="session">
          <LanguageSwitch />
          {session?.name && <span className="who">{session.name}</span>}
          {session?.roles && <span className="who" data-roles={session.roles.join(" ")}>
            {session.roles.map((r) => t(`roles.${r}`, { defaultValue: r })).join(", ")}</span>}
          <button type="button" onClick={out}>{t("actions.signOut")}</button>
        </div>
      </header>
      <main>
        <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/" element={<BoardPage />} />
          <Route path="/skus/:sku" element={<SkuPage />} />
          <Route path="/warehouses" element={<WarehousesPage />} />
          <Route path="/channels" element={<ChannelsPage />} />
          <Route path="/alerts" element={<AlertsPage />} />
          <Route path="/replenishment" element={<ReplenishmentPage />} />
          <Route path="/purchase-orders" element={<PurchaseOrdersPage />} />
          <Route path="/purchase-orders/:id" element={<PoDetailPage />} />
          <Route path="/purchase-orders/:id/print" element={<PoPrintPage />} />
          <Route path="/suppliers" element={<SuppliersPage />} />
          <Route path="/suppliers/:id" element={<SupplierPage />} />
          <Route path="/transfers" element={<TransfersPage />} />
          <Route path="/import" element={<ImportPage />} />
          <Route path="/connect" element={<ConnectListingsPage />} />
          <Route path="/reports" element={<ReportsPage />} />
          <Route path="/reports/:name" element={<ReportsPage />} />
          <Route path="*" element={<p className="state">{t("state.noPage")}</p>} />
        </Routes>
        </Suspense>
      </main>
    </div>
  );
}
