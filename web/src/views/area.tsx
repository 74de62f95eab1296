// An LA's or a trust's view (SPEC 8): tiles from the API's count fields, the deadlines table,
// compliance issues by severity, the termly summary over six terms, and the clusters.
import { useEffect, useState } from 'preact/hooks';
import { download } from '../api';
import { TermChart } from '../chart';
import { label, lastTerms, latestDue } from '../terms';
import { Section, Status, Tile, formatDate, humanise, money, useQuery } from '../ui';

export interface Area {
  kind: 'la' | 'trust';
  id: number;
  name: string;
}

const STATUSES = ['OVERDUE', 'NOT_STARTED', 'IN_TRAINING', 'QUALIFIED', 'EXEMPT'];
const PROJECTIONS = ['CANNOT_MEET', 'AT_RISK', 'ON_TRACK', 'UNKNOWN', 'QUALIFIED', 'OVERDUE', 'EXEMPT'];
const PAGE = 25;

function filters(area: Area) {
  return area.kind === 'la' ? { laCode: area.id } : { trustUid: area.id };
}

function exportQuery(area: Area): Record<string, string> {
  return area.kind === 'la' ? { laCode: String(area.id) } : { trustUid: String(area.id) };
}

interface Count {
  status: string;
  count: number;
}

function Tiles({ area }: { area: Area }) {
  const due = latestDue(new Date());
  const q = useQuery<any>('Tiles', {
    schools: filters(area),
    deadlines: filters(area),
    year: due.year,
    term: due.term,
  });
  return (
    <Status q={q}>
      {(d) => {
        const counts: Count[] = d.qualificationDeadlines.statusCounts;
        const n = (s: string) => counts.find((c) => c.status === s)?.count ?? 0;
        const projections: { projection: string; count: number }[] = d.qualificationDeadlines.projectionCounts;
        const p = (s: string) => projections.find((c) => c.projection === s)?.count ?? 0;
        const missing = d.termlySummary.schoolsInScope - d.termlySummary.reportsSubmitted;
        return (
          <ul class="tiles" aria-label="At a glance">
            <Tile label="SENCOs overdue" value={n('OVERDUE')} tone={n('OVERDUE') > 0 ? 'bad' : 'ok'} href="#deadlines" />
            <Tile label="Cannot meet the deadline" value={p('CANNOT_MEET')} tone={p('CANNOT_MEET') > 0 ? 'bad' : 'ok'} href="#deadlines" />
            <Tile label="At risk: must register" value={p('AT_RISK')} tone={p('AT_RISK') > 0 ? 'warn' : 'ok'} href="#deadlines" />
            <Tile label="In training" value={n('IN_TRAINING')} href="#deadlines" />
            <Tile label={`Reports missing, ${label(due)}`} value={missing} tone={missing > 0 ? 'warn' : 'ok'} href="#summary" />
            <Tile label="Statutory issues" value={d.complianceIssues.totalCount} tone={d.complianceIssues.totalCount > 0 ? 'bad' : 'ok'} href="#issues" />
          </ul>
        );
      }}
    </Status>
  );
}

function Deadlines({ area }: { area: Area }) {
  const [status, setStatus] = useState('');
  const [projection, setProjection] = useState('');
  const [typed, setTyped] = useState('');
  const [name, setName] = useState('');
  // The name filter follows typing after a short pause, not on every key.
  useEffect(() => {
    const t = window.setTimeout(() => {
      if (typed.trim() !== name) {
        setName(typed.trim());
        setCursors([]);
      }
    }, 300);
    return () => window.clearTimeout(t);
  }, [typed]);
  const [cursors, setCursors] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const filter = { ...filters(area), ...(status ? { statuses: [status] } : {}), ...(projection ? { projections: [projection] } : {}),
    ...(name ? { schoolNameContains: name } : {}),
  };
  const q = useQuery<any>('Deadlines', { filter, first: PAGE, after: cursors[cursors.length - 1] ?? null });
  const csv = () =>
    download('deadlines', { ...exportQuery(area), statuses: status || undefined, projections: projection || undefined, schoolNameContains: name || undefined }).catch((e) =>
      setError(String(e.message ?? e)),
    );
  return (
    <Section title="Qualification deadlines" id="deadlines">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label for="deadline-status">Status</label>
        <select
            id="deadline-status"
            value={status}
            onChange={(e) => {
              setStatus((e.target as HTMLSelectElement).value);
              setCursors([]);
            }}
          >
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option value={s}>{humanise(s)}</option>
            ))}
          </select>
        <label for="deadline-projection">Projection</label>
        <select
          id="deadline-projection"
          value={projection}
          onChange={(e) => {
            setProjection((e.target as HTMLSelectElement).value);
            setCursors([]);
          }}
        >
          <option value="">All</option>
          {PROJECTIONS.map((s) => (
            <option value={s}>{humanise(s)}</option>
          ))}
        </select>
        <label for="deadline-school">School name</label>
        <input id="deadline-school" type="search" value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} />
        <button type="button" onClick={csv}>
          Download CSV
        </button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <Status q={q}>
        {(d) => (
          <>
            <p class="muted">
              {d.qualificationDeadlines.totalCount} SENCO appointments, soonest deadline first.
            </p>
            <div class="scroll">
              <table>
                <caption class="visually-hidden">Qualification deadlines</caption>
                <thead>
                  <tr>
                    <th scope="col">School</th>
                    <th scope="col">SENCO</th>
                    <th scope="col">Deadline</th>
                    <th scope="col">Status</th>
                    <th scope="col">Projection</th>
                    <th scope="col">Days left</th>
                  </tr>
                </thead>
                <tbody>
                  {d.qualificationDeadlines.edges.map(({ node }: any) => (
                    <tr>
                      <td>
                        <a href={`#/school/${node.school.urn}`}>{node.school.name}</a>
                      </td>
                      <td>{node.person.fullName}</td>
                      <td>{formatDate(node.deadline)}</td>
                      <td>
                        <span class={`badge ${node.status}`}>{humanise(node.status)}</span>
                        {node.exemptionReason && <span class="muted"> ({humanise(node.exemptionReason)})</span>}
                      </td>
                      <td>
                        <span class={`badge ${node.projection}`}>{humanise(node.projection)}</span>
                        {node.mustRegisterBy && <span class="muted"> register by {formatDate(node.mustRegisterBy)}</span>}
                      </td>
                      <td class="num">{node.daysRemaining ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <nav class="pager" aria-label="Deadline pages">
              <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
                Previous page
              </button>
              <button
                type="button"
                disabled={!d.qualificationDeadlines.pageInfo.hasNextPage}
                onClick={() => setCursors([...cursors, d.qualificationDeadlines.pageInfo.endCursor])}
              >
                Next page
              </button>
            </nav>
          </>
        )}
      </Status>
    </Section>
  );
}

function Issues({ area }: { area: Area }) {
  const [severity, setSeverity] = useState('STATUTORY');
  const q = useQuery<any>('Issues', { filter: filters(area), severities: [severity], first: 25 });
  return (
    <Section title="Compliance issues" id="issues">
      <div role="group" aria-label="Severity" class="segmented">
        {['STATUTORY', 'GUIDANCE', 'ADVISORY'].map((s) => (
          <button type="button" aria-pressed={severity === s} onClick={() => setSeverity(s)}>
            {humanise(s)}
          </button>
        ))}
      </div>
      <Status q={q}>
        {(d) => (
          <>
            <ul class="counts">
              {d.complianceIssues.counts.map((c: any) => (
                <li>
                  <strong>{c.count}</strong> {humanise(c.code)}
                </li>
              ))}
            </ul>
            <ul class="issues">
              {d.complianceIssues.edges.map(({ node }: any) => (
                <li>
                  {node.school && <a href={`#/school/${node.school.urn}`}>{node.school.name}</a>}: {node.message}
                </li>
              ))}
            </ul>
            {d.complianceIssues.totalCount > d.complianceIssues.edges.length && (
              <p class="muted">
                The first {d.complianceIssues.edges.length} of {d.complianceIssues.totalCount};{' '}
                <button type="button" class="link" onClick={() => download('compliance-issues', { ...exportQuery(area), severities: severity })}>
                  download them all as CSV
                </button>
                .
              </p>
            )}
          </>
        )}
      </Status>
    </Section>
  );
}

function Summary({ area }: { area: Area }) {
  const terms = lastTerms(latestDue(new Date()), 6);
  const vars: Record<string, unknown> = { filter: filters(area) };
  terms.forEach((t, i) => {
    vars[`y${i}`] = t.year;
    vars[`t${i}`] = t.term;
  });
  const q = useQuery<any>('Summaries', vars);
  return (
    <Section title="Termly reports" id="summary">
      <Status q={q}>
        {(d) => {
          const rows = [0, 1, 2, 3, 4, 5].map((i) => d[`s${i}`]);
          const last = rows[5];
          const change = (now: number, before: number) => {
            const diff = now - before;
            return `${diff >= 0 ? '+' : ''}${diff}`;
          };
          return (
            <>
              <p>
                {label(terms[5])}: {last.reportsSubmitted} of {last.schoolsInScope} schools reported.
                Pupils with SEND {last.totals.pupilsWithSend} ({change(last.totals.pupilsWithSend, last.previousTerm.pupilsWithSend)} on the
                term before, {change(last.totals.pupilsWithSend, last.sameTermLastYear.pupilsWithSend)} on the same term last year);
                EHC plans {last.totals.ehcp}; budget remaining {money(last.totals.budgetRemaining)};{' '}
                {last.totals.overspentSchools} schools overspent.
              </p>
              <TermChart
                labels={terms.map(label)}
                series={[
                  { label: 'Pupils with SEND', values: rows.map((r) => r.totals.pupilsWithSend) },
                  { label: 'EHC plans', values: rows.map((r) => r.totals.ehcp) },
                ]}
              />
              <div class="scroll">
                <table>
                  <caption>The last six terms (the latest version of each school's report)</caption>
                  <thead>
                    <tr>
                      <th scope="col">Term</th>
                      <th scope="col">Reports</th>
                      <th scope="col">Pupils with SEND</th>
                      <th scope="col">EHC plans</th>
                      <th scope="col">SEN support %</th>
                      <th scope="col">Budget remaining</th>
                      <th scope="col">Overspent schools</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r, i) => (
                      <tr>
                        <th scope="row">{label(terms[i])}</th>
                        <td class="num">
                          {r.reportsSubmitted} / {r.schoolsInScope}
                        </td>
                        <td class="num">{r.totals.pupilsWithSend}</td>
                        <td class="num">{r.totals.ehcp}</td>
                        <td class="num">{r.totals.senSupportPercent?.toFixed(1) ?? '—'}</td>
                        <td class="num">{money(r.totals.budgetRemaining)}</td>
                        <td class="num">{r.totals.overspentSchools}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {last.missingReports.length > 0 && (
                <details>
                  <summary>{last.missingReports.length} schools have not reported for {label(terms[5])}</summary>
                  <ul class="columns">
                    {last.missingReports.map((s: any) => (
                      <li>
                        <a href={`#/school/${s.urn}`}>{s.name}</a>
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </>
          );
        }}
      </Status>
    </Section>
  );
}

function Clusters({ area }: { area: Area }) {
  const q = useQuery<any>('Clusters', { filter: filters(area) });
  return (
    <Section title="Shared-SENCO clusters" id="clusters">
      <Status q={q}>
        {(d) =>
          d.clusters.edges.length === 0 ? (
            <p class="muted">No clusters.</p>
          ) : (
            <ul class="cards">
              {d.clusters.edges.map(({ node }: any) => (
                <li class="card">
                  <h3>{node.name}</h3>
                  <p>
                    SENCO {node.senco.fullName}; {node.members.length} schools, {node.totalNumberOnRoll} pupils,{' '}
                    {node.totalNonContactHoursPerWeek} non-contact hours a week; next review {formatDate(node.nextReviewDue)}.
                  </p>
                  <p>
                    {node.members.map((m: any, i: number) => (
                      <>
                        {i > 0 && ', '}
                        <a href={`#/school/${m.urn}`}>{m.name}</a>
                      </>
                    ))}
                  </p>
                  {node.issues.length === 0 ? (
                    <p class="ok-text">No issues.</p>
                  ) : (
                    <ul class="issues">
                      {node.issues.map((i: any) => (
                        <li>
                          <span class={`badge ${i.severity}`}>{humanise(i.severity)}</span> {i.message}
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Status>
    </Section>
  );
}

export function AreaView({ area }: { area: Area }) {
  return (
    <>
      <h1>{area.name}</h1>
      <Tiles area={area} />
      <Deadlines area={area} />
      <Issues area={area} />
      <Summary area={area} />
      <Clusters area={area} />
    </>
  );
}
