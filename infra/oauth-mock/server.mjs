// Switchboard's OAuth 2.0 authorization server for end-to-end tests and
// `make dev`: oauth2-mock-server (pinned in package.json) behind a node:http
// server of our own that adds what the platforms do and the library does not.
//
//   node infra/oauth-mock/server.mjs --port N [--log-requests]
//
// Listens on 127.0.0.1 (port 0 = any free port) and prints one JSON line,
// {"url":"http://127.0.0.1:PORT"}, on stdout once it accepts connections.
// Everything else goes to stderr.
//
// Kept from the library: GET /authorize (redirects straight back with code
// and state), POST /token (JWT access and id tokens, RS256), GET /userinfo,
// GET /jwks, GET /.well-known/openid-configuration, POST /revoke (answers 200).
//
// Added on top (the internal/oauthmock Go package drives all of it):
//   - per-client behaviour, POST /__control/clients: refresh rotation, Google
//     style refresh answers without a refresh token, no refresh tokens at all,
//     access token lifetime, a client secret, Basic or body client auth, extra
//     answer fields (Vercel), Facebook's fb_exchange_token;
//   - bookkeeping: codes are single-use, bound to their client and
//     redirect_uri, and need their PKCE verifier; refresh tokens must have been
//     issued and still be alive (rotated, revoked and killed ones answer
//     invalid_grant);
//   - POST /revoke reads the token from a form body, a JSON body or ?token=,
//     records it and kills refresh tokens (with revokeGrant, every token of
//     the client: Google ends the user's whole grant to the app);
//   - failure injection, refresh killing, delays, stats and reset under
//     /__control/.

import http from "node:http";
import { createHash, randomUUID } from "node:crypto";
import { OAuth2Server } from "oauth2-mock-server";

const FB_LONG_LIVED_TTL = 5184000; // Facebook's long-lived user tokens: ~60 days
const MAX_BODY = 1 << 20;

// ---- command line ---------------------------------------------------------

function parseArgs(argv) {
  const opts = { port: 0, logRequests: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--port") {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535) {
        throw new Error(`--port wants a number from 0 to 65535, got ${JSON.stringify(v)}`);
      }
      opts.port = Number(v);
    } else if (a === "--log-requests") {
      opts.logRequests = true;
    } else {
      throw new Error(`unknown argument ${JSON.stringify(a)} (usage: server.mjs --port N [--log-requests])`);
    }
  }
  return opts;
}

// ---- per-client configuration ----------------------------------------------

const DEFAULT_CLIENT = Object.freeze({
  rotateRefresh: true, // every refresh answers a new refresh token; the old one dies
  refreshOnRefresh: true, // false: the refresh answer has no refresh_token and the old one lives (Google)
  issueRefresh: true, // false: no refresh tokens at all (Meta, Vercel)
  accessTTL: 3600, // seconds: expires_in and the JWT's exp
  clientSecret: undefined, // set: token requests must authenticate with it
  authStyle: "any", // "basic" | "body" | "any"
  extra: {}, // fields added to every token answer (Vercel's installation_id, team_id, user_id)
  longLivedExchange: false, // accept grant_type=fb_exchange_token
  // true: revoking any token ends the whole grant, every token issued to the
  // client (the mock has one user). Google: "Revokes all of the scopes that
  // the user granted to the app" (developers.google.com/identity/oauth2/web/
  // reference/js-reference#google.accounts.oauth2.revoke).
  revokeGrant: false,
  declineLoginHint: undefined, // set: an authorize request with this login_hint is declined (access_denied)
  // set: an authorize request with this login_hint is approved with the
  // withheldScopes left out of the grant, as a user who unticks them on a
  // granular consent screen (Google) or leaves a workspace unselected
  // (Railway); the token answer's scope lists what was granted.
  withholdLoginHint: undefined,
  withheldScopes: [],
  // RFC 9207: "issuer" sends iss=<the mock's issuer> with every
  // authorization response, any other string sends that value (a wrong
  // issuer, for tests), undefined sends none.
  responseIss: undefined,
});

const AUTH_STYLES = ["basic", "body", "any"];

function validateClientConfig(id, c) {
  if (!isObject(c)) throw new BadRequest(`client ${JSON.stringify(id)}: the configuration must be an object`);
  const out = { ...DEFAULT_CLIENT, extra: {}, withheldScopes: [] };
  for (const [k, v] of Object.entries(c)) {
    const where = `client ${JSON.stringify(id)}: ${k}`;
    switch (k) {
      case "rotateRefresh":
      case "refreshOnRefresh":
      case "issueRefresh":
      case "longLivedExchange":
      case "revokeGrant":
        if (typeof v !== "boolean") throw new BadRequest(`${where} must be a boolean`);
        out[k] = v;
        break;
      case "accessTTL":
        if (!Number.isInteger(v) || v <= 0) throw new BadRequest(`${where} must be a positive whole number of seconds`);
        out[k] = v;
        break;
      case "clientSecret":
      case "declineLoginHint":
      case "withholdLoginHint":
      case "responseIss":
        if (v === null || v === "") break;
        if (typeof v !== "string") throw new BadRequest(`${where} must be a string`);
        out[k] = v;
        break;
      case "authStyle":
        if (!AUTH_STYLES.includes(v)) throw new BadRequest(`${where} must be one of ${AUTH_STYLES.join(", ")}`);
        out[k] = v;
        break;
      case "withheldScopes":
        if (v === null) break;
        if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && x !== "")) throw new BadRequest(`${where} must be a list of scopes`);
        out[k] = [...v];
        break;
      case "extra":
        if (v === null) break;
        if (!isObject(v)) throw new BadRequest(`${where} must be an object`);
        out[k] = { ...v };
        break;
      default:
        throw new BadRequest(`${where}: unknown setting (known: ${Object.keys(DEFAULT_CLIENT).join(", ")})`);
    }
  }
  return out;
}

// ---- state ---------------------------------------------------------------------

function freshStats() {
  return {
    tokenRequests: [], // {grant, clientId, auth}
    pkce: [], // {clientId, kind: "verified" | "missingVerifier"}
    revocations: [],
    refreshes: [],
    authorizeRequests: [],
  };
}

const state = {
  clients: new Map(), // client id -> configuration (defaults filled in)
  failures: [], // {grant, clientId, status, error, description, count, retryAfter}
  delays: new Map(), // client id ("" = every client) -> ms
  stats: freshStats(),
  // Tokens and codes outlive /__control/reset: a reset forgets behaviour and
  // counts, not what was issued.
  codes: new Map(), // code -> {clientId, redirectUri, scope, challenge, method, used}
  refreshTokens: new Map(), // token -> {clientId, scope, alive, diedBecause}
  accessTokens: new Map(), // token -> {clientId, scope, revoked}
};

function clientConfig(id) {
  return state.clients.get(id ?? "") ?? DEFAULT_CLIENT;
}

// ---- small helpers ---------------------------------------------------------------

class BadRequest extends Error {}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function sendJSON(res, status, body, headers = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(data),
    "Cache-Control": "no-store",
    Pragma: "no-cache",
    ...headers,
  });
  res.end(data);
}

function oauthError(res, status, error, description, headers) {
  sendJSON(res, status, { error, error_description: description }, headers);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new BadRequest("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

// parseBody reads the whole body (so the library's body parsers skip it) and
// parses a form or JSON body into a plain object of strings where it can.
async function parseBody(req) {
  const raw = await readBody(req);
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (raw === "") return { kind: "none", params: {} };
  if (type === "application/json" || type.endsWith("+json")) {
    let v;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new BadRequest("malformed JSON body");
    }
    if (!isObject(v)) throw new BadRequest("the JSON body must be an object");
    return { kind: "json", params: { ...v } };
  }
  return { kind: "form", params: Object.fromEntries(new URLSearchParams(raw)) };
}

function queryParams(url) {
  return Object.fromEntries(url.searchParams);
}

// formDecode undoes the application/x-www-form-urlencoded encoding RFC 6749
// 2.3.1 asks of a client id and secret before they go into HTTP Basic.
function formDecode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

// clientAuth says who the client is and how it authenticated: "basic"
// (Authorization: Basic), "body" (client_secret in the parameters) or "none"
// (a public client, client_id only).
function clientAuth(req, params) {
  const h = req.headers.authorization;
  if (h !== undefined && /^basic /i.test(h)) {
    const decoded = Buffer.from(h.slice(6).trim(), "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i < 0) return { style: "basic", error: "malformed HTTP Basic credentials" };
    const clientId = formDecode(decoded.slice(0, i));
    const secret = formDecode(decoded.slice(i + 1));
    if (params.client_secret !== undefined) {
      return { clientId, style: "basic", error: "the client authenticated twice: HTTP Basic and client_secret in the body" };
    }
    if (params.client_id !== undefined && params.client_id !== clientId) {
      return { clientId, style: "basic", error: "client_id in the body differs from the HTTP Basic user" };
    }
    return { clientId, secret, style: "basic" };
  }
  const clientId = typeof params.client_id === "string" ? params.client_id : undefined;
  if (params.client_secret !== undefined) return { clientId, secret: String(params.client_secret), style: "body" };
  return { clientId, style: "none" };
}

// checkClientAuth answers the invalid_client error for a client that did not
// authenticate the way its configuration asks, or undefined.
function checkClientAuth(cfg, auth) {
  if (auth.error) return auth.error;
  if (!auth.clientId) return "no client_id: send it with HTTP Basic or in the body";
  if (cfg.authStyle === "basic" && auth.style !== "basic") {
    return `client ${auth.clientId} must authenticate with HTTP Basic (it used ${auth.style})`;
  }
  if (cfg.authStyle === "body" && auth.style !== "body") {
    return `client ${auth.clientId} must send client_id and client_secret in the body (it used ${auth.style})`;
  }
  if (cfg.clientSecret !== undefined) {
    if (auth.secret === undefined) return `client ${auth.clientId} must authenticate with its secret`;
    if (auth.secret !== cfg.clientSecret) return `wrong client secret for ${auth.clientId}`;
  }
  return undefined;
}

function invalidClient(res, auth, description) {
  const headers = auth.style === "basic" ? { "WWW-Authenticate": 'Basic realm="oauth-mock"' } : {};
  oauthError(res, 401, "invalid_client", description, headers);
}

function s256(verifier) {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

function pkceMatches(verifier, challenge, method) {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  return (method === "S256" ? s256(verifier) : verifier) === challenge;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function scopeHas(scope, want) {
  return typeof scope === "string" && scope.split(/\s+/).includes(want);
}

// ---- the library ------------------------------------------------------------------

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`oauth-mock: ${err.message}\n`);
  process.exit(2);
}

const lib = new OAuth2Server();
await lib.issuer.keys.generate("RS256");
const service = lib.service;
const libHandler = service.requestHandler;

// Every access and id token is a JWT the library signs; set its exp from the
// client's accessTTL (or the long-lived exchange's 60 days). The library's
// payload is only iss, iat, exp, nbf and the claims set here, so two tokens
// for one client and user in the same second were the same string, and
// revoking one (a test's disconnect) revoked the other's: a random jti
// (RFC 7519 4.1.7) makes each token its own.
service.on("beforeTokenSigning", (token, req) => {
  const ttl = req?.sb?.ttl;
  if (ttl !== undefined) token.payload.exp = token.payload.iat + ttl;
  token.payload.jti = randomUUID();
});

// Codes: remember what the authorize request asked, keyed by the code the
// library made.
service.on("beforeAuthorizeRedirect", (redirect, req) => {
  const code = redirect.url.searchParams.get("code");
  const q = req.sb?.query;
  if (!code || !q) return;
  const cfg = clientConfig(q.client_id);
  if (cfg.responseIss !== undefined) {
    redirect.url.searchParams.set("iss", cfg.responseIss === "issuer" ? lib.issuer.url : cfg.responseIss);
  }
  const decline = cfg.declineLoginHint;
  if (decline !== undefined && q.login_hint === decline) {
    // The user declined the consent: back with the error and no code (RFC 6749 4.1.2.1).
    redirect.url.searchParams.delete("code");
    redirect.url.searchParams.set("error", "access_denied");
    redirect.url.searchParams.set("error_description", "The user declined the consent (oauth-mock: login_hint matched declineLoginHint).");
    return;
  }
  let scope = q.scope;
  if (cfg.withholdLoginHint !== undefined && q.login_hint === cfg.withholdLoginHint && typeof scope === "string") {
    scope = scope.split(/\s+/).filter((x) => x !== "" && !cfg.withheldScopes.includes(x)).join(" ");
  }
  state.codes.set(code, {
    clientId: q.client_id,
    redirectUri: q.redirect_uri,
    scope,
    challenge: q.code_challenge || undefined,
    method: q.code_challenge ? (q.code_challenge_method ?? "plain") : undefined,
    used: false,
  });
});

// Token answers: lifetimes, refresh token bookkeeping, extras.
service.on("beforeResponse", (response, req) => {
  const ctx = req.sb;
  if (!ctx || response.statusCode !== 200) return;
  const { cfg, clientId } = ctx;
  const body = response.body;
  body.expires_in = cfg.accessTTL;
  // The granted scope, even when it is empty (every scope withheld).
  if (ctx.scope === undefined) delete body.scope;
  else body.scope = ctx.scope;
  if (!scopeHas(body.scope, "openid")) delete body.id_token;
  state.accessTokens.set(body.access_token, { clientId, scope: ctx.scope, revoked: false });

  if (ctx.grant === "refresh_token") {
    if (!cfg.refreshOnRefresh) {
      delete body.refresh_token; // Google: keep using the one you have
    } else if (cfg.rotateRefresh) {
      // the old one was killed when the request was accepted
      state.refreshTokens.set(body.refresh_token, { clientId, scope: ctx.scope, alive: true });
    } else {
      body.refresh_token = ctx.refreshToken; // the same one again
    }
  } else if ("refresh_token" in body) {
    if (cfg.issueRefresh) {
      state.refreshTokens.set(body.refresh_token, { clientId, scope: ctx.scope, alive: true });
    } else {
      delete body.refresh_token;
    }
  }
  Object.assign(body, cfg.extra);
});

// ---- /authorize -------------------------------------------------------------------

function handleAuthorize(req, res, url) {
  const q = queryParams(url);
  state.stats.authorizeRequests.push({
    clientId: q.client_id ?? "",
    redirectUri: q.redirect_uri ?? "",
    scope: q.scope ?? "",
    state: q.state ?? "",
    codeChallengeMethod: q.code_challenge ? (q.code_challenge_method ?? "plain") : "",
    hasCodeChallenge: Boolean(q.code_challenge),
    params: q,
  });
  req.sb = { query: q };
  libHandler(req, res);
}

// ---- /token ---------------------------------------------------------------------

function takeFailure(grant, clientId) {
  const i = state.failures.findIndex(
    (f) => (f.grant === "*" || f.grant === grant) && (f.clientId === undefined || f.clientId === clientId),
  );
  if (i < 0) return undefined;
  const f = state.failures[i];
  if (--f.count <= 0) state.failures.splice(i, 1);
  return f;
}

async function handleToken(req, res, url) {
  let params;
  if (req.method === "GET") {
    await readBody(req);
    params = queryParams(url);
  } else {
    // Facebook takes its parameters in the query string on POST too.
    params = { ...queryParams(url), ...(await parseBody(req)).params };
  }
  // Facebook's code exchange has no grant_type.
  if (params.grant_type === undefined && params.code !== undefined) params.grant_type = "authorization_code";
  const grant = typeof params.grant_type === "string" ? params.grant_type : "";
  const auth = clientAuth(req, params);
  const clientId = auth.clientId;
  state.stats.tokenRequests.push({ grant, clientId: clientId ?? "", auth: auth.style });

  const delay = state.delays.get(clientId ?? "") ?? state.delays.get("") ?? 0;
  if (delay > 0) await sleep(delay);

  const failure = takeFailure(grant, clientId);
  if (failure) {
    const headers = failure.retryAfter !== undefined ? { "Retry-After": String(failure.retryAfter) } : {};
    return oauthError(res, failure.status, failure.error, failure.description, headers);
  }

  if (req.method === "GET" && grant !== "fb_exchange_token" && !clientConfig(clientId).longLivedExchange) {
    return oauthError(res, 405, "invalid_request", "token requests are POSTed", { Allow: "POST" });
  }
  if (!grant) return oauthError(res, 400, "invalid_request", "grant_type is required");

  const cfg = clientConfig(clientId);
  const authErr = checkClientAuth(cfg, auth);
  if (authErr) return invalidClient(res, auth, authErr);

  const ctx = { grant, clientId, cfg, ttl: cfg.accessTTL, scope: typeof params.scope === "string" ? params.scope : undefined };

  switch (grant) {
    case "authorization_code": {
      const err = acceptCode(params, clientId, ctx);
      if (err) return oauthError(res, 400, err[0], err[1]);
      break;
    }
    case "refresh_token": {
      const err = acceptRefresh(params, clientId, cfg, ctx);
      if (err) return oauthError(res, 400, err[0], err[1]);
      break;
    }
    case "fb_exchange_token":
      return fbExchange(req, res, params, ctx);
    default:
      break; // client_credentials, password: the library's own behaviour
  }
  if (ctx.scope !== undefined) params.scope = ctx.scope;
  req.method = "POST"; // Facebook's GET code exchange goes through the library's POST route
  req.body = params;
  req.sb = ctx;
  libHandler(req, res);
}

// acceptCode checks an authorization_code grant and uses the code up; it
// answers [error, description] when the grant is refused.
function acceptCode(params, clientId, ctx) {
  const code = params.code;
  if (typeof code !== "string" || code === "") return ["invalid_request", "code is required"];
  const c = state.codes.get(code);
  if (!c) return ["invalid_grant", "unknown authorization code"];
  if (c.used) return ["invalid_grant", "authorization code already used"];
  c.used = true; // from here on the code is spent, whatever the outcome
  if (c.clientId !== undefined && c.clientId !== clientId) {
    return ["invalid_grant", `the code was issued to client ${c.clientId}, not ${clientId}`];
  }
  if (c.redirectUri !== undefined && params.redirect_uri !== c.redirectUri) {
    return ["invalid_grant", "redirect_uri does not match the authorize request"];
  }
  const verifier = params.code_verifier;
  if (c.challenge !== undefined) {
    if (verifier === undefined || verifier === "") {
      state.stats.pkce.push({ clientId: clientId ?? "", kind: "missingVerifier" });
      return ["invalid_grant", "code_verifier is required: the authorize request had a code_challenge"];
    }
    if (typeof verifier !== "string" || !pkceMatches(verifier, c.challenge, c.method)) {
      return ["invalid_grant", "code_verifier does not match the code_challenge"];
    }
    state.stats.pkce.push({ clientId: clientId ?? "", kind: "verified" });
  } else if (verifier !== undefined) {
    // The library would refuse it too (invalid_request); RFC 9700 2.1.1 says refuse.
    return ["invalid_grant", "code_verifier sent, but the authorize request had no code_challenge"];
  }
  if (ctx.scope === undefined) ctx.scope = c.scope;
  return undefined;
}

// acceptRefresh checks a refresh_token grant; with rotation it kills the old
// token at once, so of two concurrent refreshes with one token only the first
// succeeds, as on the platforms that rotate.
function acceptRefresh(params, clientId, cfg, ctx) {
  const token = params.refresh_token;
  if (typeof token !== "string" || token === "") return ["invalid_request", "refresh_token is required"];
  const rec = { clientId: clientId ?? "", refreshToken: token, at: new Date().toISOString(), ok: false };
  state.stats.refreshes.push(rec);
  const rt = state.refreshTokens.get(token);
  if (!rt) return ["invalid_grant", "refresh token was never issued"];
  if (!rt.alive) return ["invalid_grant", `refresh token is no longer valid: ${rt.diedBecause}`];
  if (rt.clientId !== clientId) return ["invalid_grant", `the refresh token was issued to client ${rt.clientId}`];
  if (cfg.refreshOnRefresh && cfg.rotateRefresh) {
    rt.alive = false;
    rt.diedBecause = "rotated (a newer refresh token replaced it)";
  }
  rec.ok = true;
  ctx.refreshToken = token;
  if (ctx.scope === undefined) ctx.scope = rt.scope;
  return undefined;
}

function fbError(res, message, code) {
  sendJSON(res, 400, { error: { message, type: "OAuthException", code, fbtrace_id: "oauthmock" } });
}

async function fbExchange(req, res, params, ctx) {
  if (!ctx.cfg.longLivedExchange) {
    return oauthError(res, 400, "unsupported_grant_type", `client ${ctx.clientId} does not take fb_exchange_token (set longLivedExchange)`);
  }
  if (params.client_secret === undefined) return fbError(res, "Missing client_secret parameter.", 101);
  const short = params.fb_exchange_token;
  if (typeof short !== "string" || short === "") return fbError(res, "Missing fb_exchange_token parameter.", 100);
  const at = state.accessTokens.get(short);
  if (!at || at.revoked || at.clientId !== ctx.clientId) {
    return fbError(res, "Error validating access token: the token was not issued to this app by this server.", 190);
  }
  ctx.ttl = FB_LONG_LIVED_TTL;
  ctx.scope = at.scope;
  req.sb = ctx;
  const token = await service.buildToken(req, FB_LONG_LIVED_TTL, (_header, payload) => {
    Object.assign(payload, { sub: "johndoe", aud: ctx.clientId });
    if (at.scope !== undefined) payload.scope = at.scope;
  });
  state.accessTokens.set(token, { clientId: ctx.clientId, scope: at.scope, revoked: false });
  sendJSON(res, 200, { access_token: token, token_type: "bearer", expires_in: FB_LONG_LIVED_TTL, ...ctx.cfg.extra });
}

// ---- /revoke ----------------------------------------------------------------------

async function handleRevoke(req, res, url) {
  const body = await parseBody(req);
  const query = queryParams(url);
  let params;
  let via;
  if (body.params.token !== undefined) {
    params = body.params;
    via = body.kind;
  } else if (query.token !== undefined) {
    params = { ...body.params, ...query };
    via = "query";
  } else {
    return oauthError(res, 400, "invalid_request", "token is required (form body, JSON body or ?token=)");
  }
  const token = String(params.token);
  const auth = clientAuth(req, params);
  const cfg = clientConfig(auth.clientId);
  // Revocation without client credentials is fine (Google takes just the
  // token); credentials that are there must be right.
  if (auth.error) return invalidClient(res, auth, auth.error);
  if (cfg.clientSecret !== undefined && auth.secret !== undefined && auth.secret !== cfg.clientSecret) {
    return invalidClient(res, auth, `wrong client secret for ${auth.clientId}`);
  }
  const rt = state.refreshTokens.get(token);
  const at = state.accessTokens.get(token);
  state.stats.revocations.push({
    token,
    tokenTypeHint: typeof params.token_type_hint === "string" ? params.token_type_hint : "",
    clientId: auth.clientId ?? "",
    via,
    tokenKind: rt ? "refresh_token" : at ? "access_token" : "unknown",
  });
  if (rt && rt.alive) {
    rt.alive = false;
    rt.diedBecause = "revoked";
  }
  if (at) at.revoked = true;
  const owner = rt?.clientId ?? at?.clientId;
  if (owner !== undefined && clientConfig(owner).revokeGrant) endGrant(owner);
  req.body = params;
  libHandler(req, res);
}

// endGrant kills every token issued to the client: the whole grant of the
// (one) user to that app.
function endGrant(clientId) {
  for (const rt of state.refreshTokens.values()) {
    if (rt.clientId === clientId && rt.alive) {
      rt.alive = false;
      rt.diedBecause = "revoked (the user's whole grant to the app was revoked)";
    }
  }
  for (const at of state.accessTokens.values()) {
    if (at.clientId === clientId) at.revoked = true;
  }
}

// ---- /__control/ ---------------------------------------------------------------

function filterStats(client) {
  const s = state.stats;
  const keep = (e) => client === undefined || e.clientId === client;
  const tokenRequests = { authorization_code: 0, refresh_token: 0, fb_exchange_token: 0 };
  const clientAuthCounts = { basic: 0, body: 0, none: 0 };
  for (const r of s.tokenRequests.filter(keep)) {
    tokenRequests[r.grant || "missing"] = (tokenRequests[r.grant || "missing"] ?? 0) + 1;
    clientAuthCounts[r.auth] += 1;
  }
  const pkce = { verified: 0, missingVerifier: 0 };
  for (const p of s.pkce.filter(keep)) pkce[p.kind] += 1;
  return {
    tokenRequests,
    pkce,
    clientAuth: clientAuthCounts,
    revocations: s.revocations.filter(keep),
    refreshes: s.refreshes.filter(keep),
    authorizeRequests: s.authorizeRequests.filter(keep),
  };
}

function validateFailure(f) {
  if (!isObject(f)) throw new BadRequest("the failure must be an object");
  const known = ["grant", "clientId", "status", "error", "description", "count", "retryAfter"];
  for (const k of Object.keys(f)) if (!known.includes(k)) throw new BadRequest(`failure: unknown field ${k} (known: ${known.join(", ")})`);
  const grant = f.grant ?? "*";
  if (typeof grant !== "string" || grant === "") throw new BadRequest("failure: grant must be a grant type or *");
  if (f.clientId !== undefined && typeof f.clientId !== "string") throw new BadRequest("failure: clientId must be a string");
  if (!Number.isInteger(f.status) || f.status < 400 || f.status > 599) throw new BadRequest("failure: status must be an HTTP error status (400-599)");
  const count = f.count ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new BadRequest("failure: count must be a whole number >= 1");
  if (f.retryAfter !== undefined && (!Number.isInteger(f.retryAfter) || f.retryAfter < 0)) {
    throw new BadRequest("failure: retryAfter must be a whole number of seconds");
  }
  const defaults = { 400: "invalid_grant", 401: "invalid_client", 429: "temporarily_unavailable", 503: "temporarily_unavailable" };
  const error = f.error ?? defaults[f.status] ?? (f.status >= 500 ? "server_error" : "invalid_request");
  if (typeof error !== "string") throw new BadRequest("failure: error must be a string");
  return {
    grant,
    clientId: f.clientId,
    status: f.status,
    error,
    description: typeof f.description === "string" ? f.description : "injected failure (oauth-mock /__control/fail)",
    count,
    retryAfter: f.retryAfter,
  };
}

async function handleControl(req, res, url, path) {
  const route = `${req.method} ${path}`;
  const body = req.method === "POST" ? (await parseBody(req)).params : (await readBody(req), {});
  switch (route) {
    case "POST /__control/clients": {
      const parsed = new Map();
      for (const [id, c] of Object.entries(body)) parsed.set(id, validateClientConfig(id, c));
      for (const [id, c] of parsed) state.clients.set(id, c);
      return sendJSON(res, 200, { clients: Object.fromEntries(state.clients) });
    }
    case "GET /__control/clients":
      return sendJSON(res, 200, { clients: Object.fromEntries(state.clients) });
    case "POST /__control/fail":
      state.failures.push(validateFailure(body));
      return sendJSON(res, 200, { failures: state.failures });
    case "POST /__control/kill-refresh": {
      if (typeof body.token !== "string" || body.token === "") throw new BadRequest("kill-refresh: token is required");
      const rt = state.refreshTokens.get(body.token);
      if (!rt) return sendJSON(res, 404, { error: "no such refresh token was issued" });
      if (rt.alive) {
        rt.alive = false;
        rt.diedBecause = "killed (the user revoked the app)";
      }
      return sendJSON(res, 200, { ok: true });
    }
    case "POST /__control/delay": {
      const ms = body.ms;
      if (!Number.isInteger(ms) || ms < 0 || ms > 600000) throw new BadRequest("delay: ms must be a whole number from 0 to 600000");
      const id = body.clientId ?? "";
      if (typeof id !== "string") throw new BadRequest("delay: clientId must be a string");
      if (ms === 0) state.delays.delete(id);
      else state.delays.set(id, ms);
      return sendJSON(res, 200, { ok: true });
    }
    case "GET /__control/stats":
      return sendJSON(res, 200, filterStats(url.searchParams.get("client") ?? undefined));
    case "POST /__control/reset":
      state.clients.clear();
      state.failures.length = 0;
      state.delays.clear();
      state.stats = freshStats();
      return sendJSON(res, 200, { ok: true });
    default:
      return sendJSON(res, 404, { error: `no control endpoint ${route}` });
  }
}

// ---- the server -------------------------------------------------------------------

let base = "http://127.0.0.1";

async function handle(req, res) {
  const url = new URL(req.url, base);
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
  if (opts.logRequests) process.stderr.write(`oauth-mock: ${req.method} ${url.pathname}${url.search ? "?…" : ""}\n`);
  if (path.startsWith("/__control/")) return handleControl(req, res, url, path);
  if (path === "/token" && (req.method === "POST" || req.method === "GET")) return handleToken(req, res, url);
  if (path === "/revoke" && req.method === "POST") return handleRevoke(req, res, url);
  if (path === "/authorize" && req.method === "GET") return handleAuthorize(req, res, url);
  return libHandler(req, res);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (err instanceof BadRequest) {
      if (!res.headersSent) sendJSON(res, 400, { error: "invalid_request", error_description: err.message });
      return;
    }
    process.stderr.write(`oauth-mock: ${req.method} ${req.url}: ${err?.stack ?? err}\n`);
    if (!res.headersSent) sendJSON(res, 500, { error: "server_error", error_description: `oauth-mock bug: ${err?.message ?? err}` });
    else res.destroy();
  });
});
server.keepAliveTimeout = 5000;

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}

server.on("error", (err) => {
  process.stderr.write(`oauth-mock: ${err.stack ?? err}\n`);
  process.exit(1);
});
server.listen(opts.port, "127.0.0.1", () => {
  const { port } = server.address();
  base = `http://127.0.0.1:${port}`;
  lib.issuer.url = base;
  process.stdout.write(`${JSON.stringify({ url: base })}\n`);
});
