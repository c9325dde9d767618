import { beforeEach, describe, expect, it } from "vitest";
import { isLive, jwtClaims, loadSession, newSession, saveSession, sessionExpiry, SESSION_HOURS } from "../src/auth/session";

const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.s`;
const HOUR = 3600 * 1000;

describe("session expiry", () => {
  beforeEach(() => localStorage.clear());

  it("ends an opaque token's session after 8 hours", () => {
    const now = 1_700_000_000_000;
    expect(sessionExpiry("opaque-token", now)).toBe(now + SESSION_HOURS * HOUR);
  });

  it("ends a JWT's session at its exp when that comes first, else at 8 hours", () => {
    const now = 1_700_000_000_000;
    expect(sessionExpiry(jwt({ exp: now / 1000 + 3600 }), now)).toBe(now + HOUR);
    expect(sessionExpiry(jwt({ exp: now / 1000 + 48 * 3600 }), now)).toBe(now + SESSION_HOURS * HOUR);
  });

  it("reads claims with non-ASCII names and ignores tokens that are not JWTs", () => {
    expect(jwtClaims(jwt({ "cognito:username": "张三" }))?.["cognito:username"]).toBe("张三");
    expect(jwtClaims("not-a-jwt")).toBeNull();
    expect(jwtClaims("a.%%%.c")).toBeNull();
  });

  it("forgets a stored session once it has expired, and a damaged one", () => {
    const now = 1_700_000_000_000;
    saveSession(localStorage, newSession("tok", "token", now));
    expect(loadSession(localStorage, now + HOUR)?.token).toBe("tok");
    expect(loadSession(localStorage, now + SESSION_HOURS * HOUR)).toBeNull();
    expect(localStorage.length).toBe(0);
    localStorage.setItem("stocklink.session", "{not json");
    expect(loadSession(localStorage, now)).toBeNull();
    expect(isLive(null, now)).toBe(false);
  });
});
