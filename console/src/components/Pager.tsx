/** Cursor pages (the API's `next`): remembers the cursors seen so "previous" goes back without a cursor of its own. */
import { useState } from "react";
import { useTranslation } from "react-i18next";

export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; cursors: (string | null)[] }>({ key: resetKey, cursors: [null] });
  const cursors = state.key === resetKey ? state.cursors : [null];   // a new filter starts at page 1
  return {
    cursor: cursors[cursors.length - 1],
    page: cursors.length,
    previous: () => setState({ key: resetKey, cursors: cursors.slice(0, -1) }),
    next: (cursor: string) => setState({ key: resetKey, cursors: [...cursors, cursor] }),
  };
}

export function Pager({ pages, next }: { pages: ReturnType<typeof useCursorPages>; next: string | null | undefined }) {
  const { t } = useTranslation();
  return (
    <div className="pager">
      <button type="button" disabled={pages.page < 2} onClick={pages.previous}>{t("actions.previous")}</button>
      <span>{t("board.page", { page: pages.page })}</span>
      <button type="button" disabled={!next} onClick={() => next && pages.next(next)}>{t("actions.next")}</button>
    </div>
  );
}
