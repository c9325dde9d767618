/** What the signed-in person may do, for showing only the pages and buttons they can use (the API decides
 * anyway: a button shown in error answers 403 and says so).
 *
 * A Cognito ID token names its groups (`cognito:groups`); an opaque machine token's roles come from `GET /me` at
 * sign-in. */
import type { ApiClient } from "../api/client";

export const ROLES = ["admin", "staff", "buyer", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** Route groups of the API (shared/stocklink/auth.py ROUTE_ROLES) the console acts through. */
const GROUPS = {
  buying: ["admin", "buyer"],      // suppliers, quotes, purchase orders (create, status, ship)
  staff: ["admin", "staff"],       // receiving purchase orders, transfers, lanes, stock, alerts, allocation
} as const satisfies Record<string, readonly Role[]>;
export type Capability = keyof typeof GROUPS;

export function rolesFromClaims(claims: Record<string, unknown> | null): Role[] | undefined {
  const groups = claims?.["cognito:groups"];
  if (!Array.isArray(groups)) return undefined;
  return ROLES.filter((r) => groups.includes(r));
}

/** undefined roles (a session from before roles were kept): everything is shown and the API decides. */
export function can(roles: readonly string[] | undefined, capability: Capability): boolean {
  if (!roles) return true;
  return roles.some((r) => (GROUPS[capability] as readonly string[]).includes(r));
}

/** Which roles see each page in the navigation (every reading role may open any page by its address). */
export const PAGE_ROLES: Record<string, readonly Role[]> = {
  "/": ROLES, "/warehouses": ROLES, "/alerts": ROLES, "/reports": ROLES, "/replenishment": ROLES,
  "/channels": ["admin", "staff", "viewer"],
  "/purchase-orders": ROLES,                       // buyers run them, staff receive them, viewers read them
  "/suppliers": ["admin", "buyer", "viewer"],
  "/transfers": ["admin", "staff", "viewer"],
  "/import": ["admin", "staff"],                   // the seller's first hour: catalogue sheet, listings, first sync
  "/connect": ["admin", "staff"],
};

export function showsPage(roles: readonly string[] | undefined, path: string): boolean {
  if (!roles) return true;
  const allowed = PAGE_ROLES[path] ?? ROLES;
  return roles.some((r) => (allowed as readonly string[]).includes(r));
}

/** The roles of an opaque machine token, as the API names them (`GET /me`; a storefront-only token has none the
 * console uses). */
export async function tokenRoles(api: ApiClient): Promise<Role[]> {
  const me = await api.get<{ name: string; roles: string[] }>("/me");
  return ROLES.filter((r) => me.roles.includes(r));
}
