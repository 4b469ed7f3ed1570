// server.mjs runs panva's oidc-provider (an OpenID Certified provider) on
// the loopback for connctl's tests. internal/testpeer/oidcprovider starts it
// with node; it is not a program for anything else.
//
// Environment:
//   OIDC_PROVIDER_DIR  the folder holding node_modules/oidc-provider
//                      (scripts/build-test-tools.sh installs it)
//   OIDC_READY_FILE    written (atomically) with {"issuer": ...} once serving
//   OIDC_CLIENT_ID     the public native client connctl uses
//   OIDC_RS_ID, OIDC_RS_SECRET  a confidential client that may introspect
//   OIDC_ACCESS_TTL    access token lifetime in seconds (default 65)
//   OIDC_COOKIE_KEY    the key that signs the provider's cookies
//
// The server listens on an ephemeral port of 127.0.0.1 first and only then
// names its issuer after that port, so no port is ever picked and lost.
// Nothing here logs a token, code or cookie: only event names go to stdout.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (k, d) => {
  const v = process.env[k];
  if (v === undefined || v === '') {
    if (d === undefined) throw new Error(`${k} is not set`);
    return d;
  }
  return v;
};

const dir = env('OIDC_PROVIDER_DIR');
const { default: Provider } = await import(pathToFileURL(join(dir, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href);

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      // A native public client with PKCE: a loopback redirect gets any port (RFC 8252 §7.3).
      client_id: env('OIDC_CLIENT_ID'),
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
    {
      client_id: env('OIDC_RS_ID'),
      client_secret: env('OIDC_RS_SECRET'),
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // The login typed on the devInteractions page is the account; it is also
  // its e-mail address, so the scripts sign in as alice@example.com.
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'offline_access', 'email'],
  // Put the scope's claims in the id_token too (the default keeps them for
  // userinfo), so that connctl can name the account from the id_token.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
  },
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: Number(env('OIDC_ACCESS_TTL', '65')),
    AuthorizationCode: 60,
    IdToken: 3600,
    Grant: 14 * 24 * 3600,
    Interaction: 600,
    Session: 3600,
    RefreshToken: 14 * 24 * 3600,
  },
  cookies: { keys: [env('OIDC_COOKIE_KEY')] },
});

for (const ev of ['grant.success', 'grant.error', 'grant.revoked', 'revocation.success', 'revocation.error',
  'authorization.error', 'server_error', 'introspection.error']) {
  provider.on(ev, (...args) => {
    const err = args.find((a) => a instanceof Error);
    // error_description never holds a token value.
    console.log(JSON.stringify({ event: ev, error: err ? `${err.error || err.name}: ${err.error_description || err.message}` : undefined }));
  });
}

server.on('request', provider.callback());

const ready = env('OIDC_READY_FILE');
mkdirSync(join(ready, '..'), { recursive: true });
writeFileSync(`${ready}.tmp`, JSON.stringify({ issuer }));
renameSync(`${ready}.tmp`, ready);
console.log(JSON.stringify({ event: 'ready', issuer }));

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
