/** Cognito hosted UI sign-in: OAuth 2.0 authorization code with PKCE (RFC 7636), no client secret in the page.
 * begin() sends the browser to /oauth2/authorize; finish() checks `state` and swaps the code for tokens. */

import type { CognitoAuth } from "../config";

const VERIFIER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
const PENDING_KEY = "stocklink.pkce";

export function base64url(bytes: Uint8Array): string {
  let bin = "";
  bytes.forEach((b) => { bin += String.fromCharCode(b); });
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A code verifier: 64 characters of the RFC's unreserved set (43..128 allowed). */
export function codeVerifier(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  return Array.from(random(64), (b) => VERIFIER_CHARS[b % VERIFIER_CHARS.length]).join("");
}

export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The hosted UI's origin: a full domain as given, or a Cognito domain prefix in the pool's region. */
export function hostedUiOrigin(auth: CognitoAuth): string {
  const domain = auth.domain.replace(/^https?:\/\//, "").replace(/\/$/, "");
  return `https://${domain.includes(".") ? domain : `${domain}.auth.${auth.region}.amazoncognito.com`}`;
}

export function authorizeUrl(auth: CognitoAuth, redirectUri: string, state: string, challenge: string): string {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: auth.clientId,
    redirect_uri: redirectUri,
    scope: "openid email profile",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  return `${hostedUiOrigin(auth)}/oauth2/authorize?${params}`;
}

export function logoutUrl(auth: CognitoAuth, signedOutUri: string): string {
  return `${hostedUiOrigin(auth)}/logout?${new URLSearchParams({ client_id: auth.clientId, logout_uri: signedOutUri })}`;
}

export interface Pending { state: string; verifier: string; redirectUri: string }

/** Starts sign-in: remembers the verifier and state for the callback and returns where to send the browser. */
export async function begin(auth: CognitoAuth, redirectUri: string, storage: Storage): Promise<string> {
  const verifier = codeVerifier();
  const state = codeVerifier().slice(0, 32);
  storage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, redirectUri } satisfies Pending));
  return authorizeUrl(auth, redirectUri, state, await codeChallenge(verifier));
}

export class SignInError extends Error {}

export interface Tokens { id_token: string; access_token: string; expires_in: number; refresh_token?: string }

/** Completes sign-in from the callback's query string: the tokens, or SignInError in plain words. */
export async function finish(auth: CognitoAuth, search: string, storage: Storage,
                             fetchImpl: typeof fetch = fetch): Promise<Tokens> {
  const params = new URLSearchParams(search);
  const pendingText = storage.getItem(PENDING_KEY);
  storage.removeItem(PENDING_KEY); // one use only, whatever happens next
  if (params.get("error")) throw new SignInError(params.get("error_description") || params.get("error") || "");
  const code = params.get("code");
  if (!code) throw new SignInError("no authorization code in the callback");
  const pending = pendingText ? (JSON.parse(pendingText) as Pending) : null;
  if (!pending || pending.state !== params.get("state")) {
    throw new SignInError("the sign-in answer does not match a sign-in started here (state)");
  }
  const response = await fetchImpl(`${hostedUiOrigin(auth)}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: auth.clientId,
      code,
      redirect_uri: pending.redirectUri,
      code_verifier: pending.verifier,
    }).toString(),
  });
  if (!response.ok) throw new SignInError(`the token endpoint answered ${response.status}`);
  const tokens = (await response.json()) as Tokens;
  if (!tokens.id_token) throw new SignInError("the token endpoint sent no id_token");
  return tokens;
}
