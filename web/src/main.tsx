// SENCO Oversight's web console (SPEC 8): served by the binary at `/`, built only on the
// public GraphQL API (trusted documents), the CSV exports and the signed-in token.
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session } from './session';
import { SignIn } from './views/signin';
import { AreaView, type Area } from './views/area';
import { SchoolView } from './views/school';
import { GovernorView } from './views/governor';
import { PackView } from './views/pack';
import { Status, useQuery } from './ui';

session.takeFragment();
// A `#token=` link opened in a tab that already shows the console changes only the fragment.
window.addEventListener('hashchange', () => session.takeFragment());

function useRoute(): string {
  const [route, setRoute] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setRoute(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

function useSignedIn(): boolean {
  const [signedIn, setSignedIn] = useState(session.token() !== null);
  useEffect(() => session.onChange(() => setSignedIn(session.token() !== null)), []);
  return signedIn;
}

interface Reach {
  areas: Area[];
  schools: number[];
  /** Schools reached only through a govern scope (a governing body's member). */
  governs: number[];
  admin: boolean;
}

function reachOf(scopes: string[], las: { code: number; name: string }[]): Reach {
  const areas: Area[] = [];
  const schools: number[] = [];
  const governs: number[] = [];
  let admin = false;
  for (const s of scopes) {
    const [kind, id] = s.split(':');
    if (s === 'admin') admin = true;
    else if (kind === 'la') areas.push({ kind: 'la', id: Number(id), name: las.find((l) => l.code === Number(id))?.name ?? `LA ${id}` });
    else if (kind === 'trust') areas.push({ kind: 'trust', id: Number(id), name: `Trust ${id}` });
    else if (kind === 'school') {
      schools.push(Number(id));
      if (s.endsWith(':govern')) governs.push(Number(id));
    }
  }
  if (admin) for (const l of las) areas.push({ kind: 'la', id: l.code, name: l.name });
  const distinct = [...new Set(schools)];
  // A school that only a govern scope reaches opens on its governance page.
  const onlyGoverned = distinct.filter((u) => scopes.filter((s) => s.startsWith(`school:${u}:`)).every((s) => s.endsWith(':govern')));
  return { areas, schools: distinct, governs: onlyGoverned.filter((u) => governs.includes(u)), admin };
}

function Home({ reach }: { reach: Reach }) {
  if (reach.areas.length === 1 && reach.schools.length === 0) return <AreaView area={reach.areas[0]} />;
  if (reach.areas.length === 0 && reach.schools.length === 1)
    return reach.governs.includes(reach.schools[0]) ? <GovernorView urn={reach.schools[0]} /> : <SchoolView urn={reach.schools[0]} />;
  return (
    <>
      <h1>Where to?</h1>
      {reach.areas.length > 0 && (
        <ul class="columns">
          {reach.areas.map((a) => (
            <li>
              <a href={`#/${a.kind}/${a.id}`}>{a.name}</a>
            </li>
          ))}
        </ul>
      )}
      {reach.schools.length > 0 && (
        <ul class="columns">
          {reach.schools.map((u) => (
            <li>
              <a href={reach.governs.includes(u) ? `#/school/${u}/governance` : `#/school/${u}`}>School {u}</a>
            </li>
          ))}
        </ul>
      )}
      {reach.areas.length + reach.schools.length === 0 && <p>This token grants no school. Ask your administrator for the scopes you need.</p>}
    </>
  );
}

function Console() {
  const route = useRoute();
  const q = useQuery<any>('Viewer', {});
  return (
    <Status q={q}>
      {(d) => {
        const reach = reachOf(d.viewer.scopes, d.localAuthorities);
        const parts = route.replace(/^#\/?/, '').split('/');
        let page;
        if (parts[0] === 'la' || parts[0] === 'trust') {
          const id = Number(parts[1]);
          const area = reach.areas.find((a) => a.kind === parts[0] && a.id === id) ?? {
            kind: parts[0] as Area['kind'],
            id,
            name: parts[0] === 'la' ? `LA ${id}` : `Trust ${id}`,
          };
          page = <AreaView area={area} />;
        } else if (parts[0] === 'school') {
          const urn = Number(parts[1]);
          page = parts[2] === 'governance' ? <GovernorView urn={urn} /> : parts[2] === 'pack' ? <PackView urn={urn} /> : <SchoolView urn={urn} />;
        } else {
          page = <Home reach={reach} />;
        }
        return page;
      }}
    </Status>
  );
}

function App() {
  const signedIn = useSignedIn();
  const who = session.subject();
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          // The fragment is the console's route: move focus without changing it.
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="bar">
        <a class="brand" href="#/">
          SENCO Oversight
        </a>
        {signedIn && (
          <span class="who">
            {who && <span>Signed in as {who}</span>}{' '}
            <button type="button" onClick={() => session.signOut()}>
              Sign out
            </button>
          </span>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {signedIn ? <Console /> : <SignIn />}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
