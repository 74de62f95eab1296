// Sign-in (SPEC 8): paste a token, follow a `#token=` link, or, when the server names an
// OpenID Connect provider, sign in there (authorization code with PKCE).
import { useEffect, useState } from 'preact/hooks';
import { session } from '../session';
import { beginOidc, finishOidc, oidcConfig, type OidcConfig } from '../oidc';

export function SignIn() {
  const [token, setToken] = useState('');
  const [oidc, setOidc] = useState<OidcConfig | null>(null);
  const [error, setError] = useState<string | null>(sessionStorage.getItem('senco.notice'));
  useEffect(() => {
    sessionStorage.removeItem('senco.notice');
    oidcConfig()
      .then(async (c) => {
        setOidc(c);
        if (c) await finishOidc(c);
      })
      .catch((e) => setError(String(e.message ?? e)));
  }, []);
  return (
    <>
      <h1>Sign in</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {oidc && (
        <p>
          <button type="button" onClick={() => beginOidc(oidc).catch((e) => setError(String(e.message ?? e)))}>
            Sign in with {new URL(oidc.issuer).host}
          </button>
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim() === '') setError('Paste a token first.');
          else session.signIn(token);
        }}
      >
        <label for="token">Access token</label>
        <p class="hint" id="token-hint">
          A bearer token from your identity provider, or one the demo printed when it started. It is kept in this
          browser tab only and forgotten when you sign out or close the tab.
        </p>
        <textarea id="token" aria-describedby="token-hint" rows={4} value={token} onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)} />
        <button type="submit">Sign in</button>
      </form>
    </>
  );
}
