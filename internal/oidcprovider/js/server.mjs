// panva's oidc-provider on loopback, for edgeauth's tests and demo. The Go
// harness (internal/oidcprovider) writes a JSON config, runs
//   node server.mjs <config.json>
// and reads one line from stdout: {"event":"ready","issuer":"http://127.0.0.1:PORT"}.
// Everything else goes to stderr. The process ends on SIGTERM/SIGINT, or when
// stdin closes (the harness holds the pipe: if it dies, so does this).
//
// Beside oidc-provider itself this file adds only what any deployment must
// supply: accounts, a login page, an automatic consent step, a storage
// adapter, and one admin route for the tests (live refresh tokens).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

// The oldest Node.js the pinned oidc-provider (8.x) and its dependencies
// support (quick-lru, nanoid, @koa/router: >= 18).
const MIN_NODE_MAJOR = 18;

const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < MIN_NODE_MAJOR) {
  process.stderr.write(`oidc-provider needs Node.js ${MIN_NODE_MAJOR} or later; this is ${process.version}\n`);
  process.exit(2);
}

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

// oidc-provider is installed by `npm ci` in a cache folder, not beside this
// file: resolve it from there.
const requireFrom = createRequire(path.join(config.modulesDir, 'package.json'));
const { default: Provider, errors } = await import(pathToFileURL(requireFrom.resolve('oidc-provider')).href);

const log = (msg, fields = {}) => process.stderr.write(`${JSON.stringify({ msg, ...fields })}\n`);

// ---- keys: one RSA and one EC P-256 signing key, fresh per start ----

function thumbprint(jwk) {
  // RFC 7638: the required members, lexicographic order, no spaces.
  const members = jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return crypto.createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function signingKey(alg) {
  const { privateKey } = alg === 'RS256'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: thumbprint(jwk), alg, use: 'sig' };
}

// ---- storage: in memory, with the one query the admin route needs ----

// Model name -> id -> { payload, expiresAt (ms) }. Secondary indexes map a
// grant to its tokens, a session uid and a user code to their ids.
const store = new Map();
const grantIndex = new Map(); // grantId -> [[model, id]]
const uidIndex = new Map(); // session uid -> id
const userCodeIndex = new Map(); // user code -> id
const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

function table(model) {
  if (!store.has(model)) store.set(model, new Map());
  return store.get(model);
}

function live(entry) {
  return entry && (entry.expiresAt === undefined || entry.expiresAt > Date.now()) ? entry.payload : undefined;
}

class MemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
    table(this.model).set(id, { payload, expiresAt });
    if (this.model === 'Session' && payload.uid) uidIndex.set(payload.uid, id);
    if (payload.userCode) userCodeIndex.set(payload.userCode, id);
    if (grantable.has(this.model) && payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, []);
      grantIndex.get(payload.grantId).push([this.model, id]);
    }
  }

  async find(id) {
    return live(table(this.model).get(id));
  }

  async findByUid(uid) {
    const id = uidIndex.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = userCodeIndex.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = await this.find(id);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    table(this.model).delete(id);
  }

  async revokeByGrantId(grantId) {
    for (const [model, id] of grantIndex.get(grantId) || []) table(model).delete(id);
    grantIndex.delete(grantId);
    table('Grant').delete(grantId);
  }
}

// liveRefreshTokens counts the refresh tokens of sub issued to clientId that
// the token endpoint would still accept: not expired, not consumed by a
// rotation, their grant still there.
function liveRefreshTokens(sub, clientId) {
  let n = 0;
  for (const entry of table('RefreshToken').values()) {
    const rt = live(entry);
    if (rt && rt.accountId === sub && rt.clientId === clientId && !rt.consumed && live(table('Grant').get(rt.grantId))) n += 1;
  }
  return n;
}

// ---- accounts ----

const users = new Map(config.users.map((u) => [u.sub, u]));

function findByEmail(email) {
  const want = String(email).trim().toLowerCase();
  return config.users.find((u) => u.email.toLowerCase() === want);
}

// Same cost whether or not the user exists or the password is right.
function passwordMatches(user, password) {
  const want = crypto.createHash('sha256').update(user ? user.password : crypto.randomUUID()).digest();
  const got = crypto.createHash('sha256').update(String(password)).digest();
  return crypto.timingSafeEqual(want, got) && user !== undefined;
}

// Keycloak's shape: groups as realm roles, nested under realm_access.
function userClaims(user) {
  return {
    sub: user.sub,
    email: user.email,
    email_verified: true,
    name: user.name,
    preferred_username: user.username,
    realm_access: { roles: [...user.groups] },
  };
}

// ---- the provider ----

const resources = new Map(config.resources.map((r) => [r.url, r]));

function providerConfig() {
  return {
    adapter: MemoryAdapter,
    clients: config.clients,
    cookies: { keys: config.cookieKeys },
    jwks: { keys: [signingKey('RS256'), signingKey('ES256')] },
    async findAccount(ctx, id) {
      const user = users.get(id);
      if (!user) return undefined;
      return { accountId: id, async claims() { return userClaims(user); } };
    },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['realm_access'],
    },
    // false: the ID token carries the claims of its scopes even when the
    // access token is good for userinfo. oidc-provider's default (true)
    // follows OIDC Core 5.4 and puts only sub there.
    conformIdTokenClaims: config.conformIdTokenClaims,
    // Access tokens, JWT or opaque, carry the user's roles and names as
    // Keycloak's do; for opaque ones introspection returns them.
    async extraTokenClaims(ctx, token) {
      const user = token.accountId && users.get(token.accountId);
      if (!user) return undefined;
      const { realm_access, preferred_username, email } = userClaims(user);
      return { realm_access, preferred_username, email };
    },
    pkce: { methods: ['S256'], required: () => true },
    // Every refresh rotates: the old token is consumed, and presenting it
    // again revokes the whole grant (oidc-provider's reuse detection).
    rotateRefreshToken: true,
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL || config.accessTokenTTL,
      IdToken: config.idTokenTTL,
      RefreshToken: config.refreshTokenTTL,
      Session: config.refreshTokenTTL,
      Grant: config.refreshTokenTTL,
      Interaction: 600,
      AuthorizationCode: 60,
    },
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        // oidc-provider's default rule, written out (which also silences its
        // notice): any authenticated confidential client may introspect any
        // token; a public client only its own.
        allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client.clientId,
      },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, client, oneOf) => oneOf,
        useGrantedResource: async () => config.useGrantedResource,
        async getResourceServerInfo(ctx, indicator) {
          const r = resources.get(indicator);
          if (!r) throw new errors.InvalidTarget();
          return {
            scope: r.scopes.join(' '),
            audience: r.url,
            accessTokenTTL: config.accessTokenTTL,
            accessTokenFormat: r.opaque ? 'opaque' : 'jwt',
            jwt: { sign: { alg: config.accessTokenAlg } },
          };
        },
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1 id="error">${esc(out.error)}</h1><p>${esc(out.error_description || '')}</p>`);
    },
  };
}

// The logout confirmation is configured away: the form oidc-provider asks
// for posts itself, with logout=yes, so RP-initiated logout ends the
// provider's session too and goes on to the post_logout_redirect_uri.
// Without JavaScript a button posts it.
async function logoutSource(ctx, form) {
  const autoForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/><noscript><button id="logout-confirm" type="submit">Sign out</button></noscript></form>');
  ctx.body = page('Signing out', `<h1>Signing out</h1>${autoForm}<script>document.getElementById('op.logoutForm').submit()</script>`);
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>${body}</body></html>`;
}

function loginPage(uid, email, error) {
  return page('Sign in', `<h1>Sign in</h1>
${error ? `<p id="login-error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
<label>Email <input id="login" name="login" type="email" required value="${esc(email || '')}"></label>
<label>Password <input id="password" name="password" type="password" required></label>
<button id="submit-login" type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button id="cancel-login" type="submit">Cancel</button></form>`);
}

const MAX_FORM = 16 << 10;

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > MAX_FORM) throw new errors.InvalidRequest('form too large');
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

// consent grants whatever the client asked for, at once: the demo's
// clients are first-party. oidc-provider still runs its consent prompt, so
// offline_access needs prompt=consent as with any spec-strict provider.
async function consent(provider, req, res, details) {
  const { prompt: { details: missing }, params, session: { accountId }, grantId } = details;
  const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const saved = await grant.save();
  await provider.interactionFinished(req, res, { consent: grantId ? {} : { grantId: saved } }, { mergeWithLastSubmission: true });
}

async function interaction(provider, req, res, url) {
  const [, , uid, action] = url.pathname.split('/'); // /interaction/:uid[/:action]
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction session id mismatch');
  const prompt = details.prompt.name;
  if (req.method === 'GET' && action === undefined) {
    if (prompt === 'login') return send(res, 200, loginPage(uid, details.params.login_hint));
    if (prompt === 'consent') return consent(provider, req, res, details);
    throw new errors.InvalidRequest(`unsupported prompt ${prompt}`);
  }
  if (req.method === 'POST' && action === 'login' && prompt === 'login') {
    const form = await readForm(req);
    const user = findByEmail(form.get('login') || '');
    if (!passwordMatches(user, form.get('password') || '')) {
      return send(res, 401, loginPage(uid, form.get('login'), 'Invalid email or password.'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'POST' && action === 'abort') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
  }
  return send(res, 404, page('Not found', '<h1>Not found</h1>'));
}

// /admin/refresh-tokens?sub=..&client_id=.. answers {"live": n}, for tests
// that check a sign-out revoked the refresh token at the provider. It needs
// the admin token the harness generated.
function admin(req, res, url) {
  const want = Buffer.from(`Bearer ${config.adminToken}`);
  const got = Buffer.from(req.headers.authorization || '');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) {
    res.writeHead(401, { 'Content-Type': 'application/json' });
    return res.end('{"error":"unauthorized"}');
  }
  if (url.pathname !== '/admin/refresh-tokens' || !url.searchParams.get('sub') || !url.searchParams.get('client_id')) {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    return res.end('{"error":"not_found"}');
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  return res.end(JSON.stringify({ live: liveRefreshTokens(url.searchParams.get('sub'), url.searchParams.get('client_id')) }));
}

const server = http.createServer();
server.listen(config.port, config.host, () => {
  const { port } = server.address();
  const issuer = `http://${config.host}:${port}`;
  // A plain-http issuer needs no switch: oidc-provider only warns about
  // https issuers reached without TLS. proxy stays off: nothing forwards.
  const provider = new Provider(issuer, providerConfig());
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'introspection.error', 'revocation.error', 'end_session.error', 'userinfo.error']) {
    provider.on(event, (ctx, err) => log(event, { error: err?.error || err?.name, description: err?.error_description || err?.message }));
  }
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname.startsWith('/interaction/')) {
      interaction(provider, req, res, url).catch((err) => {
        log('interaction error', { error: err.error || err.name, description: err.error_description || err.message });
        if (!res.headersSent) send(res, err.statusCode || 500, page('Error', `<h1 id="error">${esc(err.error || 'server_error')}</h1><p>${esc(err.error_description || '')}</p>`));
      });
    } else if (url.pathname.startsWith('/admin/')) {
      admin(req, res, url);
    } else {
      callback(req, res);
    }
  });
  process.stdout.write(`${JSON.stringify({ event: 'ready', issuer })}\n`);
});
server.on('error', (err) => {
  log('listen failed', { description: err.message });
  process.exit(1);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
