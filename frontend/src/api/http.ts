// The one HTTP client of the browser app: openapi-fetch typed by the server's schema
// (schema.d.ts, generated), with the session's CSRF header, the expired-session redirect,
// and the server's `{"message", "extra"}` error body turned into a thrown `ApiError`.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

/** The `extra` of the server's error body: per-field messages and/or per-node graph errors. */
export interface ErrorExtra {
  fields?: Record<string, string[]>;
  errors?: { node: string | null; field: string | null; message: string }[];
  [key: string]: unknown;
}

/** An API failure: the server's `{"message", "extra"}` body, or a network error (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly extra: ErrorExtra;

  constructor(status: number, message: string, extra: ErrorExtra = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.extra = extra;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export const NETWORK_ERROR = "Cannot reach the server. Check your connection and try again.";
export const SESSION_EXPIRED = "Your session has expired. Please sign in again.";

let csrfToken = "";
let workspaceId: string | null = null;

export function configureApi(opts: { csrfToken?: string }): void {
  if (opts.csrfToken) csrfToken = opts.csrfToken;
}

export function setApiWorkspace(id: string | null): void {
  workspaceId = id;
}

export function getApiWorkspace(): string | null {
  return workspaceId;
}

function readCookie(name: string): string {
  if (typeof document === "undefined") return "";
  const match = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return match ? decodeURIComponent(match.slice(name.length + 1)) : "";
}

/** The CSRF token to send with a write (a raw XMLHttpRequest upload sends it too). */
export function currentCsrf(): string {
  // Django rotates the token at login; the cookie is the freshest copy when readable.
  return readCookie("csrftoken") || csrfToken;
}

/** `path` with the active workspace as `?workspace=` (list and create endpoints need it). */
export function withWorkspace(path: string): string {
  if (!workspaceId) return path;
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}workspace=${encodeURIComponent(workspaceId)}`;
}

const session: Middleware = {
  onRequest({ request }) {
    if (request.method !== "GET" && request.method !== "HEAD") {
      request.headers.set("X-CSRFToken", currentCsrf());
    }
    return request;
  },
  onError({ error }) {
    if (error instanceof DOMException && error.name === "AbortError") return error;
    return new ApiError(0, NETWORK_ERROR);
  },
  onResponse({ response }) {
    if (response.redirected && /\/accounts\/login\//.test(response.url)) {
      // The session expired: the API bounced us to the login page.
      window.location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
      throw new ApiError(401, SESSION_EXPIRED);
    }
    return response;
  },
};

function origin(): string {
  // Request() needs an absolute URL outside a browser (the unit tests).
  return typeof location !== "undefined" ? location.origin : "http://localhost";
}

/** The typed client: `http.GET("/api/runs/{run_id}/", { params: { path: { run_id } } })`. */
export const http = createClient<paths>({
  baseUrl: origin(),
  credentials: "same-origin",
  headers: { Accept: "application/json" },
  // Looked up per call, so tests can stub the global fetch after this module loads.
  fetch: (request) => globalThis.fetch(request),
});
http.use(session);

/** The server's error body as an ApiError; DRF's `{"detail"}` and non-JSON bodies too. */
export function toApiError(response: Response, body: unknown): ApiError {
  const obj = (body && typeof body === "object" ? body : {}) as {
    message?: unknown;
    extra?: unknown;
    detail?: unknown;
  };
  const message =
    typeof obj.message === "string"
      ? obj.message
      : typeof obj.detail === "string"
        ? obj.detail
        : `Request failed (${response.status} ${response.statusText || "error"})`;
  const extra = obj.extra && typeof obj.extra === "object" ? (obj.extra as ErrorExtra) : {};
  return new ApiError(response.status, message, extra);
}

/** The data of an openapi-fetch result, or its error thrown as an ApiError. */
export async function unwrap<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) throw toApiError(response, error);
  return data as T;
}
