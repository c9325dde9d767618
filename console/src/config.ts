/** Runtime configuration, read from /console/config.json at start-up (the local runtime writes it; in AWS the
 * deployment does), so one build serves every environment. */

export interface CognitoAuth {
  mode: "cognito";
  region: string;
  userPoolId: string;
  clientId: string;
  domain: string;
}
export interface TokenAuth { mode: "token" }
export interface ConsoleConfig { apiBase: string; auth: TokenAuth | CognitoAuth }

export const LOCAL_DEFAULT: ConsoleConfig = { apiBase: "", auth: { mode: "token" } };

export function parseConfig(data: unknown): ConsoleConfig {
  if (!data || typeof data !== "object") throw new Error("config.json is not an object");
  const obj = data as Record<string, unknown>;
  const apiBase = typeof obj.apiBase === "string" ? obj.apiBase : "";
  const auth = (obj.auth ?? { mode: "token" }) as Record<string, unknown>;
  if (auth.mode === "cognito") {
    for (const key of ["region", "userPoolId", "clientId", "domain"]) {
      if (typeof auth[key] !== "string" || !auth[key]) throw new Error(`config.json: auth.${key} is missing`);
    }
    return { apiBase, auth: auth as unknown as CognitoAuth };
  }
  if (auth.mode !== "token") throw new Error(`config.json: unknown auth.mode ${String(auth.mode)}`);
  return { apiBase, auth: { mode: "token" } };
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<ConsoleConfig> {
  const response = await fetchImpl(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
  if (response.status === 404) return LOCAL_DEFAULT; // `npm run dev` without a gateway behind it
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return parseConfig(await response.json());
}
