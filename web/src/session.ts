// The signed-in token (SPEC 8): kept in sessionStorage only (never a cookie, never left in
// the address), forgotten on sign-out. Sign-in is by pasting a token, by a `#token=` link
// (the demo banner prints one per role; the fragment is removed at once), or through the
// OpenID Connect provider the server names (authorization code with PKCE, see oidc.ts).
const KEY = 'senco.token';

type Listener = () => void;
const listeners = new Set<Listener>();

function claims(token: string): { sub?: string; exp?: number; scope?: string } | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export const session = {
  token(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(token: string) {
    sessionStorage.setItem(KEY, token.trim().replace(/^Bearer\s+/i, ''));
    listeners.forEach((l) => l());
  },
  signOut() {
    sessionStorage.removeItem(KEY);
    listeners.forEach((l) => l());
  },
  /** The server refused the token (expired or revoked): back to the sign-in page. */
  expired() {
    if (sessionStorage.getItem(KEY) !== null) {
      sessionStorage.removeItem(KEY);
      sessionStorage.setItem('senco.notice', 'Your sign-in has expired or was refused. Please sign in again.');
      listeners.forEach((l) => l());
    }
  },
  /** The token's subject, for display only (the server checks the token). */
  subject(): string | null {
    const t = this.token();
    return t ? (claims(t)?.sub ?? null) : null;
  },
  onChange(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  /** Takes a `#token=...` fragment, removing it from the address and the history entry. */
  takeFragment(): boolean {
    const params = new URLSearchParams(window.location.hash.slice(1));
    const token = params.get('token');
    if (token === null) return false;
    history.replaceState(null, '', window.location.pathname + window.location.search);
    this.signIn(token);
    return true;
  },
};
