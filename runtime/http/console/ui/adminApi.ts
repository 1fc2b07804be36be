/**
 * The console's calls to /console/api with the admin token. The token lives in this tab's
 * sessionStorage only; a start-up link carries it in the URL fragment (never sent to the
 * server), which is moved here and removed from the address bar at once.
 */
const KEY = "jit-console.admin-token";

export class AdminRefused extends Error {}

export function takeTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1]!));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

export const adminToken = {
  get: () => sessionStorage.getItem(KEY),
  set: (token: string) => sessionStorage.setItem(KEY, token),
  clear: () => sessionStorage.removeItem(KEY),
};

/** The app the console shows, when the server serves several (`?app=` on every call). */
let chosenApp: string | null = null;
export const appChoice = {
  get: () => chosenApp,
  set: (appId: string | null) => {
    chosenApp = appId;
  },
};

export interface ApiError {
  code: string;
  message: string;
  requestId?: string;
}

export async function admin<T>(method: "GET" | "POST" | "DELETE", url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${adminToken.get() ?? ""}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (chosenApp !== null) url += `${url.includes("?") ? "&" : "?"}app=${encodeURIComponent(chosenApp)}`;
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit" });
  const answer = (await res.json().catch(() => null)) as { error?: ApiError } | null;
  if (res.status === 401 && answer?.error?.code === "ADMIN_TOKEN_INVALID") throw new AdminRefused(answer.error.message);
  if (!res.ok) throw Object.assign(new Error(answer?.error?.message ?? `HTTP ${res.status}`), { code: answer?.error?.code, requestId: answer?.error?.requestId });
  return answer as T;
}
