// A real OpenID Connect provider for the console's sign-in test: the `oidc-provider` npm
// package (a certified implementation), on a free loopback port, with its development
// login and consent pages. It knows one public client, the console, which must use PKCE,
// and issues JWT access tokens for the SENCO Oversight API (audience `senco-oversight`)
// whose `scope` holds what the console asked for from `grantable`.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import Provider from 'oidc-provider';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts the provider; resolves with its issuer URL and a `stop`. */
export async function startProvider({ clientId, redirectUri, audience, grantable }) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-provider-1', alg: 'RS256', use: 'sig' };
  // Any absolute URI names the API as a resource; the token's `aud` is the API's audience.
  const resource = 'urn:senco-oversight:api';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: 'none',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [jwk] },
    // Whoever signs in on the development login page is an account of that name.
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    ttl: { AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600 },
    scopes: ['openid', ...grantable.split(' ')],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: grantable,
          audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 3600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // The console on another origin exchanges its code from the browser.
    clientBasedCORS: () => true,
  });
  provider.proxy = false;
  const server = provider.listen(port, '127.0.0.1');
  await new Promise((resolve) => server.on('listening', resolve));
  return { issuer, stop: () => new Promise((resolve) => server.close(resolve)) };
}
