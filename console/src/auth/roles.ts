/** What the signed-in person may do, for showing only the pages and buttons they can use (the API decides
 * anyway: a button shown in error answers 403 and says so).
 *
 * A Cognito ID token names its groups (`cognito:groups`). An opaque machine token does not, and this API has no
 * "who am I" route, so the console asks two harmless reads once at sign-in: `GET /tokens` answers only an
 * admin, `GET /reservations/{id}` every reading role but a buyer. Staff and viewers cannot be told apart by a
 * read: such a token is taken as staff (a viewer then sees staff buttons that the API refuses with a 403). */
import type { ApiClient } from "../api/client";
import { ApiError } from "../api/client";

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
};

export function showsPage(roles: readonly string[] | undefined, path: string): boolean {
  if (!roles) return true;
  const allowed = PAGE_ROLES[path] ?? ROLES;
  return roles.some((r) => (allowed as readonly string[]).includes(r));
}

const PROBE_RESERVATION = "console-role-probe";

async function answers(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.kind === "forbidden") return false;
    if (err instanceof ApiError && (err.kind === "not_found" || err.kind === "invalid")) return true;  // allowed in
    throw err;
  }
}

/** The roles of an opaque token, from two reads (see the module's note). */
export async function probeRoles(api: ApiClient): Promise<Role[]> {
  const [admin, readsReservations] = await Promise.all([
    answers(() => api.get("/tokens", { limit: 1 })),
    answers(() => api.get(`/reservations/${PROBE_RESERVATION}`)),
  ]);
  if (admin) return ["admin"];
  return readsReservations ? ["staff"] : ["buyer"];
}
