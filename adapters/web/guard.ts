import { hostname, networkInterfaces } from "node:os";
import type { FastifyReply, FastifyRequest } from "fastify";
import { errorBody } from "./http.js";

/** Host names the server always answers to, wherever it listens. */
const LOOPBACK = ["localhost", "127.0.0.1", "::1"];
/** Addresses that mean "every interface": the machine's own addresses are its names then. */
const WILDCARD = new Set(["0.0.0.0", "::", ""]);

/**
 * The host names this server answers to: loopback, the address it is bound
 * to (every address of the machine, and its name, when bound to all), and the
 * operator's public names (WEB_ALLOWED_HOSTS). `"any"` when that list has "*".
 */
export function ownHostNames(boundHost: string, allowedHosts: readonly string[]): Set<string> | "any" {
  if (allowedHosts.includes("*")) return "any";
  const names = new Set(LOOPBACK);
  const bound = hostOf(boundHost) ?? "";
  if (WILDCARD.has(bound)) {
    names.add(hostname().toLowerCase());
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) names.add(a.address.toLowerCase());
    }
  } else names.add(bound);
  for (const allowed of allowedHosts) {
    const name = hostOf(allowed.replace(/^[a-z]+:\/\//i, ""));
    if (name) names.add(name);
  }
  return names;
}

/**
 * The host name of a Host header (or host[:port]), lowercased, without port,
 * brackets or a trailing dot: "[::1]:3000" -> "::1". Undefined when malformed.
 */
export function hostOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d+)?$/.exec(v);
  if (bracketed) return bracketed[1];
  // A bare IPv6 address (a bound HOST like "::"), no port possible.
  if ((v.match(/:/g)?.length ?? 0) > 1) return /^[0-9a-f:.]*$/.test(v) ? v : undefined;
  const match = /^([a-z0-9.-]*?)\.?(?::\d+)?$/.exec(v);
  return match?.[1];
}

/**
 * Refuses a request whose Host is not one of `names`: a web page on a domain
 * that re-resolves to this machine (DNS rebinding) sends its own domain as
 * Host, so it cannot reach the API even though the browser thinks it is the
 * same origin. 403 with a reason; nothing runs.
 */
export function requireOwnHost(names: Set<string> | "any") {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (names === "any") return;
    const host = hostOf(request.host);
    if (host !== undefined && names.has(host)) return;
    const shown = JSON.stringify(String(request.host ?? "").slice(0, 100));
    reply
      .code(403)
      .send(
        errorBody(
          "host_not_allowed",
          `This server does not answer to the host ${shown}. If that is its public name, add it to WEB_ALLOWED_HOSTS.`,
        ),
      );
    return reply;
  };
}

/**
 * Refuses a browser's cross-origin request to the API unless its Origin is in
 * WEB_CORS_ORIGINS (or that is "*"): the chat page itself is same-origin.
 * Requests without an Origin (curl, scripts, Slack) are not a browser's and
 * pass; the API key, when set, still applies to them.
 */
export function requireAllowedOrigin(corsOrigins: readonly string[]) {
  const any = corsOrigins.includes("*");
  const allowed = new Set(corsOrigins.map((o) => o.replace(/\/+$/, "").toLowerCase()));
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const origin = request.headers.origin;
    if (origin === undefined || any || allowed.has(origin.toLowerCase())) return;
    if (sameOrigin(origin, request.host)) return;
    reply
      .code(403)
      .send(
        errorBody(
          "origin_not_allowed",
          `Requests from pages at ${JSON.stringify(origin.slice(0, 100))} are not allowed. To allow them, add that origin to WEB_CORS_ORIGINS.`,
        ),
      );
    return reply;
  };
}

/** Whether an Origin names the host the request was sent to (the scheme may differ behind a TLS proxy). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return false;
    return host !== undefined && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}
