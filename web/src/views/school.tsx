// A school's view (SPEC 8): its SENCOs with their status, what needs attention, the termly
// report form in the order of the SENCO-governor report template, amendments and history,
// and a link to the printable governor pack.
import { useState } from 'preact/hooks';
import { RequestFailed, run, type ApiError } from '../api';
import { type AcademicTerm, label, lastTerms, latestDue, previous } from '../terms';
import { Section, Status, formatDate, humanise, money, useQuery } from '../ui';

interface Field {
  name: string;
  label: string;
  kind: 'int' | 'money' | 'hours' | 'date' | 'text';
  hint?: string;
}

/** The report's fields in the order of the SENCO-governor report template. */
export const GROUPS: { title: string; fields: Field[] }[] = [
  {
    title: 'Contact and time',
    fields: [{ name: 'nonContactHoursPerWeek', label: 'SENCO non-contact hours a week', kind: 'hours', hint: '0 to 60' }],
  },
  {
    title: 'Policy and review dates',
    fields: [
      { name: 'senPolicyDate', label: 'SEN policy last reviewed', kind: 'date' },
      { name: 'provisionReviewDate', label: 'Provision last reviewed', kind: 'date' },
      { name: 'senInformationReportPublishedOn', label: 'SEN information report published', kind: 'date' },
    ],
  },
  {
    title: 'Finance',
    fields: [
      { name: 'budgetE1', label: 'E1: notional SEN budget (£)', kind: 'money' },
      { name: 'budgetE2', label: 'E2: top-up funding (£)', kind: 'money' },
      { name: 'budgetE3', label: 'E3: other high-needs funding (£)', kind: 'money' },
      { name: 'budgetAdditional', label: 'Additional funding (£)', kind: 'money' },
      { name: 'expenditureToDate', label: 'Spent to date (£)', kind: 'money' },
    ],
  },
  {
    title: 'Numbers',
    fields: [
      { name: 'numberOnRoll', label: 'Pupils on roll', kind: 'int' },
      { name: 'pupilsWithSend', label: 'Pupils with SEND', kind: 'int', hint: 'at most the number on roll' },
      { name: 'senSupport', label: 'On SEN support (census code K)', kind: 'int' },
      { name: 'ehcp', label: 'With an EHC plan (census code E)', kind: 'int' },
    ],
  },
  {
    title: 'Applications',
    fields: [{ name: 'ehcpApplicationsInProcess', label: 'EHC needs assessment applications in process', kind: 'int' }],
  },
  {
    title: 'Challenges, concerns and training',
    fields: [
      { name: 'challenges', label: 'Challenges', kind: 'text' },
      { name: 'ongoingConcerns', label: 'Ongoing concerns', kind: 'text' },
      { name: 'trainingUndertaken', label: 'Training undertaken', kind: 'text' },
    ],
  },
];

const FIELDS = GROUPS.flatMap((g) => g.fields);

function toInput(values: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = (values[f.name] ?? '').trim();
    if (f.kind === 'int' || f.kind === 'hours') out[f.name] = v === '' ? null : Number(v);
    else if (f.kind === 'money') out[f.name] = v === '' ? null : v;
    else out[f.name] = v === '' ? null : v;
  }
  return out;
}

/** What the form can tell before sending: a required figure left empty, or not a number. */
function localErrors(values: Record<string, string>): ApiError[] {
  const out: ApiError[] = [];
  for (const f of FIELDS) {
    const v = (values[f.name] ?? '').trim();
    const field = `input.${f.name}`;
    if (f.kind === 'date' || f.kind === 'text') continue;
    if (v === '') out.push({ field, code: 'BAD_USER_INPUT', message: 'Enter a value.' });
    else if (f.kind === 'int' && !/^-?\d+$/.test(v)) out.push({ field, code: 'BAD_USER_INPUT', message: 'Enter a whole number.' });
    else if (f.kind !== 'int' && !/^-?\d+(\.\d+)?$/.test(v)) out.push({ field, code: 'BAD_USER_INPUT', message: 'Enter a number, such as 1250 or 1250.50.' });
  }
  return out;
}

function fromReport(r: any | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of FIELDS) out[f.name] = r && r[f.name] !== null && r[f.name] !== undefined ? String(r[f.name]) : '';
  return out;
}

/** The terms a school may report for: the one in progress and the five before it. */
function reportableTerms(): AcademicTerm[] {
  const due = latestDue(new Date());
  const next: AcademicTerm = due.term === 'SUMMER' ? { year: due.year + 1, term: 'AUTUMN' } : { year: due.year, term: due.term === 'AUTUMN' ? 'SPRING' : 'SUMMER' };
  // The term after the latest due may not have begun yet; the server says so if not.
  return [...lastTerms(previous(next), 5), next].reverse();
}

function ReportForm({ urn, reports, onSaved }: { urn: number; reports: any[]; onSaved: () => void }) {
  const terms = reportableTerms();
  const [termKey, setTermKey] = useState(`${terms[1].year}-${terms[1].term}`);
  const [year, term] = termKey.split('-') as [string, AcademicTerm['term']];
  const existing = reports.find((r) => r.academicYear === Number(year) && r.term === term);
  const [values, setValues] = useState<Record<string, string>>(fromReport(existing));
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const choose = (key: string) => {
    setTermKey(key);
    const [y, t] = key.split('-');
    setValues(fromReport(reports.find((r) => r.academicYear === Number(y) && r.term === t)));
    setErrors([]);
    setSaved(null);
  };
  const errorFor = (name: string) => errors.find((e) => e.field === `input.${name}`);
  const general = errors.filter((e) => !e.field || !FIELDS.some((f) => `input.${f.name}` === e.field));
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(null);
    const local = localErrors(values);
    if (local.length > 0) {
      setErrors(local);
      setTimeout(() => (document.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus(), 0);
      return;
    }
    setBusy(true);
    setErrors([]);
    try {
      const input = {
        schoolUrn: urn,
        academicYear: Number(year),
        term,
        ...(existing ? { expectedVersion: existing.version } : {}),
        ...toInput(values),
      };
      const d = await run<any>('SubmitTermlyReport', { input });
      setSaved(`Saved as version ${d.submitTermlyReport.version}.`);
      onSaved();
    } catch (err) {
      setErrors(err instanceof RequestFailed ? err.errors : [{ message: String(err), code: 'ERROR' }]);
      // Put the focus on the first field in error, so a keyboard or screen-reader user hears it.
      setTimeout(() => (document.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus(), 0);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="report" onSubmit={submit} noValidate>
      <label for="report-term">Term</label>{' '}
      <select id="report-term" value={termKey} onChange={(e) => choose((e.target as HTMLSelectElement).value)}>
          {terms.map((t) => (
            <option value={`${t.year}-${t.term}`}>{label(t)}</option>
          ))}
      </select>
      <p class="muted" aria-live="polite">
        {existing ? `Amending version ${existing.version}, submitted ${formatDate(existing.submittedAt)} by ${existing.submittedBy}.` : 'No report yet for this term.'}
      </p>
      {GROUPS.map((g) => (
        <fieldset>
          <legend>{g.title}</legend>
          {g.fields.map((f) => {
            const id = `f-${f.name}`;
            const err = errorFor(f.name);
            const common = {
              id,
              name: f.name,
              value: values[f.name] ?? '',
              'aria-invalid': err ? ('true' as const) : ('false' as const),
              'aria-describedby': [f.hint || f.kind === 'text' ? `${id}-hint` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined,
              onInput: (e: Event) => setValues({ ...values, [f.name]: (e.target as HTMLInputElement).value }),
            };
            return (
              <div class={`field ${err ? 'has-error' : ''}`}>
                <label for={id}>{f.label}</label>
                {f.kind === 'text' ? (
                  <textarea {...common} rows={3} maxLength={10000} />
                ) : (
                  <input {...common} type={f.kind === 'date' ? 'date' : 'text'} inputMode={f.kind === 'int' ? 'numeric' : f.kind === 'date' ? undefined : 'decimal'} />
                )}
                {f.kind === 'text' ? (
                  <p class="hint" id={`${id}-hint`}>
                    No pupil names or other pupil data, please: this goes to governors and the LA.
                  </p>
                ) : (
                  f.hint && (
                    <p class="hint" id={`${id}-hint`}>
                      {f.hint}
                    </p>
                  )
                )}
                {err && (
                  <p class="field-error" id={`${id}-error`}>
                    {err.message.replace(/^input\.\w+:\s*/, '')}
                  </p>
                )}
              </div>
            );
          })}
        </fieldset>
      ))}
      {general.length > 0 && (
        <div class="error" role="alert">
          {general.map((e) => (
            <p>{e.message}</p>
          ))}
        </div>
      )}
      {errors.length > 0 && general.length === 0 && (
        <p class="error" role="alert">
          Nothing was saved: please correct the {errors.length === 1 ? 'field' : 'fields'} marked below their labels.
        </p>
      )}
      {saved && (
        <p class="ok-text" role="status">
          {saved}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {existing ? 'Submit amendment' : 'Submit report'}
      </button>
    </form>
  );
}

export function SchoolView({ urn }: { urn: number }) {
  const q = useQuery<any>('School', { urn });
  return (
    <Status q={q}>
      {(d) => {
        const s = d.school;
        if (!s) return <p class="error">No school with URN {urn}.</p>;
        const current = s.sencoAppointments.filter((a: any) => !a.endedOn);
        return (
          <>
            <h1>{s.name}</h1>
            <p class="muted">
              URN {s.urn}; {s.localAuthority.name}
              {s.trust && `; ${s.trust.name}`}; {humanise(s.phase)}; {s.numberOnRoll ?? '—'} on roll.{' '}
              <a href={`#/school/${s.urn}/governance`}>Governance</a> · <a href={`#/school/${s.urn}/pack`}>Governor pack</a>
            </p>
            <Section title="SENCOs" id="sencos">
              {current.length === 0 ? (
                <p class="error">No SENCO in post.</p>
              ) : (
                <ul class="cards">
                  {current.map((a: any) => (
                    <li class="card">
                      <h3>{a.person.fullName}</h3>
                      <p>
                        Since {formatDate(a.startedOn)}
                        {a.isHeadteacher && ', headteacher'}
                        {a.onSeniorLeadershipTeam ? ', on the senior leadership team' : ', not on the senior leadership team'}
                        {a.nonContactHoursPerWeek !== null && `, ${a.nonContactHoursPerWeek} non-contact hours a week`}.
                      </p>
                      <p>
                        <span class={`badge ${a.qualification.status}`}>{humanise(a.qualification.status)}</span>{' '}
                        <span class={`badge ${a.qualification.projection}`}>{humanise(a.qualification.projection)}</span>{' '}
                        {a.qualification.mustRegisterBy && `must register by ${formatDate(a.qualification.mustRegisterBy)}; `}
                        {a.qualification.deadline && `deadline ${formatDate(a.qualification.deadline)} (${a.qualification.daysRemaining} days)`}
                        {a.qualification.exemptionReason && humanise(a.qualification.exemptionReason)}
                      </p>
                      {!a.eligible && <p class="error">May not hold the post: {a.eligibilityIssues.map(humanise).join(', ')}.</p>}
                    </li>
                  ))}
                </ul>
              )}
            </Section>
            <Section title="Needs attention" id="compliance">
              {s.compliance.length === 0 ? (
                <p class="ok-text">Nothing.</p>
              ) : (
                <ul class="issues">
                  {s.compliance.map((i: any) => (
                    <li>
                      <span class={`badge ${i.severity}`}>{humanise(i.severity)}</span> {i.message}
                    </li>
                  ))}
                </ul>
              )}
            </Section>
            <Section title="Termly report" id="report">
              <ReportForm urn={s.urn} reports={s.termlyReports} onSaved={q.reload} />
            </Section>
            <Section title="Reports so far" id="history">
              <div class="scroll">
                <table>
                  <caption class="visually-hidden">Termly reports</caption>
                  <thead>
                    <tr>
                      <th scope="col">Term</th>
                      <th scope="col">Version</th>
                      <th scope="col">Pupils with SEND</th>
                      <th scope="col">EHC plans</th>
                      <th scope="col">Budget remaining</th>
                      <th scope="col">Submitted</th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.termlyReports.map((r: any) => (
                      <tr>
                        <th scope="row">{label({ year: r.academicYear, term: r.term })}</th>
                        <td class="num">{r.version}</td>
                        <td class="num">{r.pupilsWithSend}</td>
                        <td class="num">{r.ehcp}</td>
                        <td class={`num ${r.overspent ? 'bad-text' : ''}`}>{money(r.budgetRemaining)}</td>
                        <td>
                          {formatDate(r.submittedAt)} by {r.submittedBy}
                          {r.history.length > 1 && ` (${r.history.length} versions)`}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Section>
          </>
        );
      }}
    </Status>
  );
}
