// The governor pack (SPEC 8): a printable page with the latest report, term-on-term and
// year-on-year figures, the SENCO's status and projection, open and overdue actions, and
// sign-off state.
import { label } from '../terms';
import { Status, formatDate, humanise, money, useQuery } from '../ui';
import { todayInLondon } from '../terms';

function signed(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined) return '—';
  const v = digits ? n.toFixed(digits) : String(n);
  return n > 0 ? `+${v}` : v;
}

export function PackView({ urn }: { urn: number }) {
  const q = useQuery<any>('Pack', { urn });
  const today = todayInLondon();
  return (
    <Status q={q}>
      {(d) => {
        const s = d.school;
        const terms: any[] = s.trackRecord;
        const last = terms[terms.length - 1];
        const current = s.sencoAppointments.filter((a: any) => !a.endedOn);
        const reportSignOff = s.signOffs.find((o: any) => o.document === 'TERMLY_REPORT' && last && o.academicYear === last.academicYear && o.term === last.term && o.current);
        return (
          <article class="pack">
            <p class="no-print">
              <button type="button" onClick={() => window.print()}>
                Print
              </button>{' '}
              <a href={`#/school/${s.urn}`}>Back to the school</a>
            </p>
            <h1>Governor pack: {s.name}</h1>
            <p class="muted">
              URN {s.urn}; {s.localAuthority.name}
              {s.trust && `; ${s.trust.name}`}; prepared {formatDate(today)}. Holds no pupil data.
            </p>
            <h2>The SENCO</h2>
            <ul>
              {current.map((a: any) => (
                <li>
                  {a.person.fullName}: {humanise(a.qualification.status)}, projection {humanise(a.qualification.projection)}
                  {a.qualification.deadline && `; deadline ${formatDate(a.qualification.deadline)}`}
                  {a.qualification.mustRegisterBy && `; must register by ${formatDate(a.qualification.mustRegisterBy)}`}
                  {a.qualification.projectedQualifiedOn && `; expected to qualify ${formatDate(a.qualification.projectedQualifiedOn)}`}.
                </li>
              ))}
              {current.length === 0 && <li class="bad-text">No SENCO in post.</li>}
            </ul>
            <h2>Termly figures</h2>
            <div class="scroll">
              <table>
                <caption>The last six terms, with the change on the term before and on the same term last year (latest term)</caption>
                <thead>
                  <tr>
                    <th scope="col">Term</th>
                    <th scope="col" class="num">On roll</th>
                    <th scope="col" class="num">Pupils with SEND</th>
                    <th scope="col" class="num">EHC plans</th>
                    <th scope="col" class="num">SEN support %</th>
                    <th scope="col" class="num">SENCO hours a week</th>
                    <th scope="col" class="num">Budget remaining</th>
                  </tr>
                </thead>
                <tbody>
                  {terms.map((t) => (
                    <tr>
                      <th scope="row">{label({ year: t.academicYear, term: t.term })}</th>
                      {t.reported ? (
                        <>
                          <td class="num">{t.numberOnRoll}</td>
                          <td class="num">{t.pupilsWithSend}</td>
                          <td class="num">{t.ehcp}</td>
                          <td class="num">{t.senSupportPercent?.toFixed(1) ?? '—'}</td>
                          <td class="num">{t.nonContactHoursPerWeek}</td>
                          <td class="num">{money(t.budgetRemaining)}</td>
                        </>
                      ) : (
                        <td colSpan={6} class="bad-text">
                          No report
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {last?.reported && (
              <p>
                On the term before: pupils with SEND {signed(last.changeOnPreviousTerm.pupilsWithSend)}, EHC plans {signed(last.changeOnPreviousTerm.ehcp)},
                SENCO hours {signed(last.changeOnPreviousTerm.nonContactHoursPerWeek, 1)}. On the same term last year: pupils with SEND{' '}
                {signed(last.changeOnSameTermLastYear.pupilsWithSend)}, EHC plans {signed(last.changeOnSameTermLastYear.ehcp)}, SENCO hours{' '}
                {signed(last.changeOnSameTermLastYear.nonContactHoursPerWeek, 1)}.
              </p>
            )}
            <h2>Open actions</h2>
            <ul>
              {s.governanceActions.map((a: any) => (
                <li class={a.dueOn < today ? 'bad-text' : ''}>
                  {a.description ?? '(text not shown)'}: {a.owner}, by {formatDate(a.dueOn)}
                  {a.dueOn < today && ' (overdue)'}
                </li>
              ))}
              {s.governanceActions.length === 0 && <li>None.</li>}
            </ul>
            <h2>Sign-off</h2>
            <p>
              {last
                ? reportSignOff
                  ? `The ${label({ year: last.academicYear, term: last.term })} report (version ${reportSignOff.reportVersion}) was signed off on ${formatDate(reportSignOff.signedOn)} by ${reportSignOff.signedBy}.`
                  : `The ${label({ year: last.academicYear, term: last.term })} report has no current sign-off.`
                : 'No report yet.'}
            </p>
            <h2>Needs attention</h2>
            <ul>
              {s.compliance.map((i: any) => (
                <li>
                  {humanise(i.severity)}: {i.message}
                </li>
              ))}
              {s.compliance.length === 0 && <li>Nothing.</li>}
            </ul>
          </article>
        );
      }}
    </Status>
  );
}
