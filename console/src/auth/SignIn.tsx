import { useEffect, useRef, useState } from "react";
import { useLocation, useNavigate } from "react-router";
import { useTranslation } from "react-i18next";
import { ApiClient, ApiError } from "../api/client";
import { useApp } from "../AppContext";
import { LanguageSwitch } from "../App";
import { begin, finish, SignInError } from "./pkce";
import { tokenRoles } from "./roles";

/** Locally: paste the token `make run` printed (or a named role token); it is checked against the API first.
 * In AWS: the Cognito hosted UI. */
export function SignIn() {
  const { t } = useTranslation();
  const { config, signIn, session } = useApp();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from || "/";
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { if (session) navigate(from, { replace: true }); }, [session, from, navigate]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) { setError(t("signin.tokenRequired")); return; }
    setBusy(true);
    setError(null);
    try {
      const client = new ApiClient(config.apiBase, () => value);
      await client.get("/warehouses", { limit: 1 });
      signIn(value, "token", await tokenRoles(client));
    } catch (err) {
      setError(err instanceof ApiError && (err.kind === "unauthorized" || err.kind === "forbidden")
        ? t("signin.rejected") : t("signin.unreachable", { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(false);
    }
  };
  const cognito = async () => {
    if (config.auth.mode !== "cognito") return;
    window.location.assign(await begin(config.auth, `${window.location.origin}/console/callback`, sessionStorage));
  };
  return (
    <main className="signin">
      <h1>{t("app.name")}</h1>
      <LanguageSwitch />
      {config.auth.mode === "token" ? (
        <form onSubmit={(e) => void submit(e)} noValidate>
          <label htmlFor="token">{t("signin.tokenLabel")}</label>
          <input id="token" name="token" type="password" autoComplete="off" value={token}
                 onChange={(e) => setToken(e.target.value)} aria-describedby="token-help" />
          <p id="token-help" className="help">{t("signin.tokenHelp")}</p>
          {error && <p className="field-error" role="alert">{error}</p>}
          <button type="submit" disabled={busy}>{t("actions.signIn")}</button>
        </form>
      ) : (
        <button type="button" onClick={() => void cognito()}>{t("signin.cognito")}</button>
      )}
    </main>
  );
}

export function Callback() {
  const { t } = useTranslation();
  const { config, signIn } = useApp();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);   // a code is good for one exchange: never run it twice (StrictMode, re-renders)
  useEffect(() => {
    if (config.auth.mode !== "cognito") { navigate("/signin", { replace: true }); return; }
    if (started.current) return;
    started.current = true;
    finish(config.auth, window.location.search, sessionStorage).then(
      (tokens) => { signIn(tokens.id_token, "cognito"); navigate("/", { replace: true }); },
      (err) => setError(err instanceof SignInError ? err.message : String(err)),
    );
  }, [config, navigate, signIn]);
  return (
    <main className="signin">
      {error ? <p role="alert" className="field-error">{t("signin.failed", { message: error })}</p>
        : <p role="status">{t("state.signingIn")}</p>}
    </main>
  );
}
