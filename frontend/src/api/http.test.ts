import { afterEach, describe, expect, it, vi } from "vitest";
import { request } from "./client";
import { ApiError, configureApi, http, NETWORK_ERROR, unwrap } from "./http";

function reply(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function stubFetch(impl: (req: Request) => Promise<Response>) {
  const fn = vi.fn(impl);
  vi.stubGlobal("fetch", fn);
  return fn;
}

async function failure(pending: Promise<unknown>): Promise<ApiError> {
  try {
    await pending;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("the call did not fail");
}

afterEach(() => vi.unstubAllGlobals());

describe("the API client", () => {
  it("throws the server's message and extra as an ApiError", async () => {
    stubFetch(async () =>
      reply(400, {
        message: "Check the highlighted fields.",
        extra: { fields: { name: ["This name is taken."] } },
      }),
    );
    const err = await failure(request("/api/pipelines/", { method: "POST", body: {} }));
    expect(err.status).toBe(400);
    expect(err.message).toBe("Check the highlighted fields.");
    expect(err.extra.fields).toEqual({ name: ["This name is taken."] });
  });

  it("keeps the graph errors of a refused graph", async () => {
    const errors = [{ node: "n1", field: "column", message: "No column 'x'." }];
    stubFetch(async () => reply(400, { message: "The graph is not valid.", extra: { errors } }));
    const err = await failure(unwrap(http.GET("/api/operators/")));
    expect(err.extra.errors).toEqual(errors);
  });

  it("reads DRF's detail when there is no message, and the status otherwise", async () => {
    stubFetch(async () => reply(403, { detail: "You do not have permission." }));
    await expect(request("/api/runs/")).rejects.toThrow("You do not have permission.");
    stubFetch(async () => new Response("<html>oops</html>", { status: 502, statusText: "Bad Gateway" }));
    await expect(request("/api/runs/")).rejects.toThrow("Request failed (502 Bad Gateway)");
  });

  it("turns a network failure into an ApiError with status 0", async () => {
    stubFetch(async () => {
      throw new TypeError("fetch failed");
    });
    const err = await failure(request("/api/runs/"));
    expect(err.status).toBe(0);
    expect(err.message).toBe(NETWORK_ERROR);
  });

  it("sends the CSRF token on writes only, and returns nothing for a 204", async () => {
    configureApi({ csrfToken: "tok" });
    const fetch = stubFetch(async (req) => (req.method === "GET" ? reply(200, []) : reply(204)));
    await expect(request("/api/runs/")).resolves.toEqual([]);
    await expect(request("/api/schedules/s1/", { method: "DELETE" })).resolves.toBeUndefined();
    const [get, del] = fetch.mock.calls.map(([req]) => req);
    expect(get.headers.get("X-CSRFToken")).toBeNull();
    expect(del.headers.get("X-CSRFToken")).toBe("tok");
  });

  it("follows a server-given next link on this origin", async () => {
    const fetch = stubFetch(async () => reply(200, { results: [] }));
    await request("http://example.test/api/runs/?cursor=abc&workspace=w");
    const sent = new URL(fetch.mock.calls[0][0].url);
    expect(sent.origin).toBe("http://localhost");
    expect(sent.pathname + sent.search).toBe("/api/runs/?cursor=abc&workspace=w");
  });
});
