/** The signed-in session: a bearer token and when it stops being accepted here (8 hours after sign-in, or the
 * JWT's own `exp` when that comes first). Kept in localStorage so a reload keeps it; sign-out forgets it. */

import { rolesFromClaims } from "./roles";

export const SESSION_HOURS = 8;
const KEY = "stocklink.session";

export interface Session {
  token: string;
  source: "token" | "cognito";
  expiresAt: number; // epoch ms
  name?: string;
  /** what the console shows (auth/roles.ts); absent in sessions stored before it was kept: show everything */
  roles?: string[];
}

function b64urlDecode(part: string): string {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  return decodeURIComponent(
    Array.from(atob(b64), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
  );
}

/** The claims of a JWT, or null for a token that is not one (the local runtime's tokens are opaque). */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(b64urlDecode(parts[1]));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

export function sessionExpiry(token: string, nowMs: number): number {
  const limit = nowMs + SESSION_HOURS * 3600 * 1000;
  const exp = jwtClaims(token)?.exp;
  return typeof exp === "number" ? Math.min(limit, exp * 1000) : limit;
}

export function newSession(token: string, source: Session["source"], nowMs: number, roles?: string[]): Session {
  const claims = jwtClaims(token);
  const name = (claims?.["cognito:username"] ?? claims?.email ?? claims?.sub) as string | undefined;
  return { token, source, expiresAt: sessionExpiry(token, nowMs), name, roles: roles ?? rolesFromClaims(claims) };
}

export function isLive(session: Session | null, nowMs: number): session is Session {
  return !!session && session.expiresAt > nowMs;
}

export function loadSession(storage: Storage, nowMs: number): Session | null {
  try {
    const session = JSON.parse(storage.getItem(KEY) || "null") as Session | null;
    if (isLive(session, nowMs)) return session;
  } catch {
    /* a damaged entry is the same as none */
  }
  storage.removeItem(KEY);
  return null;
}

export function saveSession(storage: Storage, session: Session): void {
  storage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(storage: Storage): void {
  storage.removeItem(KEY);
}
