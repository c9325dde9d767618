import { useTranslation } from "react-i18next";
import { ApiError } from "../api/client";

export function Loading() {
  const { t } = useTranslation();
  return <p className="state" role="status" aria-live="polite">{t("state.loading")}</p>;
}

export function Empty({ message }: { message: string }) {
  return <p className="state empty">{message}</p>;
}

/** An error in plain words: which kind, what to do; a route this StockLink lacks is said so, not shown as a crash. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  let text: string;
  if (error instanceof ApiError) {
    const key = `errors.${error.kind}`;
    text = t(key, { route: error.route, message: error.message, status: error.status });
  } else {
    text = t("errors.unexpected", { message: error instanceof Error ? error.message : String(error) });
  }
  return (
    <div className="state error" role="alert" data-error-kind={error instanceof ApiError ? error.kind : "unexpected"}>
      <p>{text}</p>
      {onRetry && <button type="button" onClick={onRetry}>{t("actions.retry")}</button>}
    </div>
  );
}
