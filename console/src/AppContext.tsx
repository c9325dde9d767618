import { createContext, useContext } from "react";
import type { ApiClient } from "./api/client";
import type { Session } from "./auth/session";
import type { ConsoleConfig } from "./config";

export interface AppState {
  config: ConsoleConfig;
  api: ApiClient;
  session: Session | null;
  signIn: (token: string, source: Session["source"], roles?: string[]) => void;
  signOut: () => void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error("useApp outside the app");
  return state;
}
