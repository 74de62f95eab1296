// OpenID Connect sign-in (SPEC 8), when the server names a provider (SENCO_OIDC_ISSUER and
// SENCO_OIDC_CLIENT_ID): the authorization code flow with PKCE (RFC 7636), a public client
// with no secret. The provider's access token is then used like any other bearer token; the
// server verifies it through the issuer's JWKS. The verifier and state live in
// sessionStorage for the one round trip and are removed as soon as the code is exchanged.
import { session } from './session';

export interface OidcConfig {
  issuer: string;
  clientId: string;
  audience?: string;
  /** Scopes to ask for besides `openid` (SENCO_OIDC_SCOPES). */
  scope?: string | null;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

const PENDING = 'senco.oidc';

export async function oidcConfig(): Promise<OidcConfig | null> {
  const r = await fetch('/console/config.json');
  if (!r.ok) return null;
  const body = await r.json();
  return body.oidc ?? null;
}

async function discover(c: OidcConfig): Promise<Discovery> {
  const r = await fetch(`${c.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!r.ok) throw new Error(`The sign-in provider did not answer (HTTP ${r.status}).`);
  return r.json();
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random(n: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

/** The API as an RFC 8707 resource indicator: only an absolute URI can be one, so an audience
 * such as the default `senco-oversight` is left for the provider to map to its resource. */
function resourceOf(c: OidcConfig): string | null {
  return c.audience && /^[a-z][a-z0-9+.-]*:/i.test(c.audience) ? c.audience : null;
}

function redirectUri(): string {
  return `${window.location.origin}/`;
}

export async function beginOidc(c: OidcConfig): Promise<void> {
  const d = await discover(c);
  const verifier = random(32);
  const state = random(16);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: c.clientId,
    redirect_uri: redirectUri(),
    scope: ['openid', c.scope ?? ''].join(' ').trim(),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const target = resourceOf(c);
  if (target) params.set('resource', target);
  window.location.assign(`${d.authorization_endpoint}?${params}`);
}

/** Finishes a sign-in when the provider has sent the browser back with a code. */
export async function finishOidc(c: OidcConfig): Promise<void> {
  const query = new URLSearchParams(window.location.search);
  const code = query.get('code');
  const pending = sessionStorage.getItem(PENDING);
  if (!code || !pending) return;
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', window.location.pathname);
  const { verifier, state } = JSON.parse(pending);
  if (query.get('state') !== state) throw new Error('The sign-in could not be checked (state mismatch). Please try again.');
  const d = await discover(c);
  const r = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: c.clientId,
      code_verifier: verifier,
      ...(resourceOf(c) ? { resource: resourceOf(c)! } : {}),
    }),
  });
  const body = await r.json().catch(() => null);
  if (!r.ok || !body?.access_token) throw new Error(`The sign-in provider refused the sign-in: ${body?.error_description ?? body?.error ?? r.status}.`);
  session.signIn(body.access_token);
}
