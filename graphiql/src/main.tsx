// GraphiQL for SENCO Oversight, served by the binary at /graphiql with everything it needs
// (scripts, styles, the Monaco editor's workers and fonts) from its own origin: no CDN.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './page.css';

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';

const PLACEHOLDER = 'Bearer <paste a token>';

// A link such as /graphiql#token=eyJ... (the demo banner prints one per role) signs the page in:
// the token goes into the headers and the fragment is removed from the address at once, so it
// is neither kept in the browser's history nor copied along with the address.
function tokenFromFragment(): string | null {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token === null) return null;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  // Tabs left from an earlier token would keep its headers: start afresh with this one.
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith('graphiql:')) sessionStorage.removeItem(key);
  }
  return token.trim();
}

const signedIn = tokenFromFragment();
const DEFAULT_HEADERS = JSON.stringify(
  { Authorization: signedIn ? `Bearer ${signedIn}` : PLACEHOLDER },
  null,
  2,
);

const DEFAULT_QUERY = `# SENCO Oversight: put a token in the headers below
# (the demo prints some when it starts), then run:
{
  viewer { sub scopes }
  schools(first: 10) {
    totalCount
    edges { node { urn name phase numberOnRoll } }
  }
}
`;

// The server answers application/json only; incremental delivery would ask for multipart.
const http = createGraphiQLFetcher({ url: '/graphql', enableIncrementalDelivery: false });

// Until a token is pasted, the placeholder is left out, so the schema still loads (and the
// docs work) anonymously instead of every request being refused as a bad token.
const fetcher: Fetcher = (params, opts) => {
  const headers = { ...opts?.headers };
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'authorization' && String(headers[name]).includes('<paste')) {
      delete headers[name];
    }
  }
  return http(params, { ...opts, headers });
};

const root = document.getElementById('graphiql');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <GraphiQL
        fetcher={fetcher}
        defaultQuery={DEFAULT_QUERY}
        defaultHeaders={DEFAULT_HEADERS}
        defaultEditorToolsVisibility="headers"
        // A token is a credential. GraphiQL's history keeps each request's headers whatever
        // shouldPersistHeaders says, so tabs and history live in sessionStorage: forgotten
        // when the browser tab closes, never shared with other tabs.
        storage={sessionStorage}
        shouldPersistHeaders={false}
      />
    </StrictMode>,
  );
}
