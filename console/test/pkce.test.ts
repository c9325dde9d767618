import { createHash } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { authorizeUrl, base64url, begin, codeChallenge, codeVerifier, finish, hostedUiOrigin, logoutUrl, SignInError } from "../src/auth/pkce";
import type { CognitoAuth } from "../src/config";
import { parseConfig } from "../src/config";

const AUTH: CognitoAuth = { mode: "cognito", region: "ap-southeast-1", userPoolId: "ap-southeast-1_Abc", clientId: "client123", domain: "stocklink-ops" };

describe("PKCE", () => {
  it("makes verifiers of 64 unreserved characters, different each time", () => {
    const a = codeVerifier();
    const b = codeVerifier();
    expect(a).toMatch(/^[A-Za-z0-9\-._~]{64}$/);
    expect(a).not.toBe(b);
  });

  it("derives the S256 challenge as RFC 7636 does (its appendix B example)", async () => {
    const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    expect(await codeChallenge(verifier)).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    const other = codeVerifier();
    expect(await codeChallenge(other)).toBe(createHash("sha256").update(other).digest("base64url"));
  });

  it("base64url has no padding or +/", () => {
    expect(base64url(new Uint8Array([251, 255, 191]))).toBe("-_-_");
  });
});

describe("Cognito hosted UI", () => {
  beforeEach(() => sessionStorage.clear());

  it("builds the authorize URL with the code flow, S256 and the redirect", () => {
    const url = new URL(authorizeUrl(AUTH, "https://console.example/console/callback", "st4te", "ch4llenge"));
    expect(url.origin).toBe("https://stocklink-ops.auth.ap-southeast-1.amazoncognito.com");
    expect(url.pathname).toBe("/oauth2/authorize");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code", client_id: "client123", redirect_uri: "https://console.example/console/callback",
      state: "st4te", code_challenge: "ch4llenge", code_challenge_method: "S256",
    });
    expect(hostedUiOrigin({ ...AUTH, domain: "https://login.example.com/" })).toBe("https://login.example.com");
    expect(new URL(logoutUrl(AUTH, "https://c.example/console/signin")).searchParams.get("logout_uri")).toBe("https://c.example/console/signin");
  });

  it("swaps the code for tokens with the verifier it started with", async () => {
    const url = new URL(await begin(AUTH, "https://c.example/console/callback", sessionStorage));
    const state = url.searchParams.get("state")!;
    const challenge = url.searchParams.get("code_challenge")!;
    const fetchImpl = vi.fn(async () => new Response(JSON.stringify({ id_token: "a.b.c", access_token: "x", expires_in: 3600 })));
    const tokens = await finish(AUTH, `?code=abc&state=${state}`, sessionStorage, fetchImpl as unknown as typeof fetch);
    expect(tokens.id_token).toBe("a.b.c");
    const [tokenUrl, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(tokenUrl).toBe("https://stocklink-ops.auth.ap-southeast-1.amazoncognito.com/oauth2/token");
    const form = new URLSearchParams(String(init.body));
    expect(form.get("grant_type")).toBe("authorization_code");
    expect(form.get("code")).toBe("abc");
    expect(form.get("redirect_uri")).toBe("https://c.example/console/callback");
    expect(await codeChallenge(form.get("code_verifier")!)).toBe(challenge);
  });

  it("refuses a callback whose state it did not start, and a replayed one", async () => {
    const url = new URL(await begin(AUTH, "https://c.example/console/callback", sessionStorage));
    const fetchImpl = vi.fn();
    await expect(finish(AUTH, "?code=abc&state=forged", sessionStorage, fetchImpl as unknown as typeof fetch)).rejects.toBeInstanceOf(SignInError);
    await expect(finish(AUTH, `?code=abc&state=${url.searchParams.get("state")}`, sessionStorage, fetchImpl as unknown as typeof fetch))
      .rejects.toBeInstanceOf(SignInError); // the pending sign-in was used up by the first answer
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it("passes on the hosted UI's error in its own words", async () => {
    await expect(finish(AUTH, "?error=access_denied&error_description=User+cancelled", sessionStorage))
      .rejects.toThrow("User cancelled");
  });
});

describe("config.json", () => {
  it("reads the local and the AWS shapes and refuses a half-filled Cognito one", () => {
    expect(parseConfig({ apiBase: "", auth: { mode: "token" } })).toEqual({ apiBase: "", auth: { mode: "token" } });
    expect(parseConfig({ apiBase: "https://api.example", auth: AUTH }).auth).toEqual(AUTH);
    expect(() => parseConfig({ apiBase: "x", auth: { mode: "cognito", region: "r" } })).toThrow(/userPoolId/);
    expect(() => parseConfig({ auth: { mode: "saml" } })).toThrow(/saml/);
  });
});
