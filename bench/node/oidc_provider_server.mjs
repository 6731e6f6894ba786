// Node's oidc-provider (panva) as the peer for `bench/bench_mock.py --peer oidc-provider`.
//
// One client_credentials client (client_secret_post) and a resource server whose access
// tokens are RS256 JWTs, as the mock issues them: each token request signs a fresh JWT with
// an RSA-2048 key. Served over HTTPS with the mock's own TLS certificate, in as many cluster
// workers as the mock has granian workers, so both run the same TLS, key size and process
// count on the same cores.
//
//   node oidc_provider_server.mjs --port P --cert server.pem --key server.key [--workers 2]

import cluster from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    workers: { type: 'string', default: '1' },
  },
});

export const CLIENT_ID = 'bench-client';
export const CLIENT_SECRET = 'bench-secret-bench-secret-bench-secret';
export const RESOURCE = 'https://graph.microsoft.com';
export const SCOPE = 'api.read';

function keys() {
  // Every worker must sign with the same key, as the mock's workers do: made once in the
  // primary and handed down through the environment.
  if (!process.env.BENCH_JWK) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    process.env.BENCH_JWK = JSON.stringify({
      ...privateKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256',
    });
  }
  return { keys: [JSON.parse(process.env.BENCH_JWK)] };
}

function serve() {
  const issuer = `https://localhost:${args.port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: keys(),
    cookies: { keys: ['bench-cookie-key'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: SCOPE,
          audience: RESOURCE,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  const tls = { cert: readFileSync(args.cert), key: readFileSync(args.key) };
  https.createServer(tls, provider.callback()).listen(Number(args.port), '127.0.0.1');
}

const workers = Number(args.workers);
if (cluster.isPrimary && workers > 1) {
  keys();
  for (let i = 0; i < workers; i += 1) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  serve();
}
