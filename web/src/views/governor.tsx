// The governing body's view (SPEC 4.10 and 8): SENCO-governor meetings with their agenda,
// key points and agreed actions (by whom, by when); the action register with overdue and
// carried-forward actions marked; and sign-off of the school's SEN documents with the
// compliance statement.
import { useState } from 'preact/hooks';
import { RequestFailed, run, type ApiError } from '../api';
import { label, latestDue } from '../terms';
import { Section, Status, formatDate, humanise, useQuery } from '../ui';
import { todayInLondon } from '../terms';

const NO_PUPIL_DATA = 'No pupil names or other pupil data: these records are seen by the school, its trust and the LA.';

/** The error the API gave for `name` or a field within it (`input.attendees.0.name`). */
function errorAt(errors: ApiError[], name: string): ApiError | undefined {
  return errors.find((x) => x.field === name || x.field?.startsWith(`${name}.`));
}

const errorId = (name: string) => `${name.replace(/\W/g, '-')}-error`;

/** The attributes that tie a control to its error, when it has one. */
function invalid(errors: ApiError[], name: string) {
  const e = errorAt(errors, name);
  return e ? { 'aria-invalid': 'true' as const, 'aria-describedby': errorId(name) } : {};
}

/** What the last submission came to: its errors, or what was saved. */
function Outcome({ errors, saved }: { errors: ApiError[]; saved: string | null }) {
  return (
    <>
      {errors.length > 0 && (
        <div class="error" role="alert">
          {errors.map((e) => (
            <p>{e.message}</p>
          ))}
        </div>
      )}
      {saved && (
        <p class="ok-text" role="status">
          {saved}
        </p>
      )}
    </>
  );
}

function FieldError({ errors, name }: { errors: ApiError[]; name: string }) {
  const e = errorAt(errors, name);
  return e ? (
    <p class="field-error" id={errorId(name)}>
      {e.message.replace(/^input\.[\w.]+:\s*/, '')}
    </p>
  ) : null;
}

function MeetingForm({ urn, onSaved }: { urn: number; onSaved: () => void }) {
  const today = todayInLondon();
  const [heldOn, setHeldOn] = useState(today);
  const [attendees, setAttendees] = useState('SENCO, SENCO\nSEN governor, SEN governor');
  const [items, setItems] = useState([{ title: 'Termly report', keyPoints: '' }]);
  const [actions, setActions] = useState([{ description: '', owner: '', dueOn: '' }]);
  const [nextOn, setNextOn] = useState('');
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [saved, setSaved] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors([]);
    setSaved(null);
    const people = attendees
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => {
        const [name, ...role] = l.split(',');
        return { name: name.trim(), role: role.join(',').trim() || 'Attendee' };
      });
    // The meeting and its actions go in one request, so a refused action stores nothing.
    const rows = actions.map((a, i) => ({ a, i })).filter(({ a }) => a.description.trim() || a.owner.trim() || a.dueOn);
    const undated = rows.filter(({ a }) => !a.dueOn).map(({ i }) => ({ code: 'BAD_USER_INPUT', field: `input.actions.${i}.dueOn`, message: `Action ${i + 1}: give the date it is due by.` }));
    if (undated.length > 0) {
      setErrors(undated);
      return;
    }
    const agreed = rows.map(({ a }) => a);
    // The API numbers the actions it was sent; the form numbers every row, blank ones too.
    const onForm = (e: ApiError): ApiError => {
      const m = /^input\.actions\.(\d+)(\..*)$/.exec(e.field ?? '');
      return m ? { ...e, field: `input.actions.${rows[Number(m[1])].i}${m[2]}` } : e;
    };
    try {
      const m = await run<any>('RecordGovernorMeeting', {
        input: {
          schoolUrn: urn,
          heldOn,
          attendees: people,
          items: items.filter((i) => i.title.trim()),
          nextMeetingOn: nextOn || null,
          actions: agreed.map((a) => ({ description: a.description, owner: a.owner, dueOn: a.dueOn })),
        },
      });
      const n = m.recordGovernorMeeting.actions.length;
      setSaved(`Meeting of ${formatDate(heldOn)} recorded with ${n} ${n === 1 ? 'action' : 'actions'}.`);
      setActions([{ description: '', owner: '', dueOn: '' }]);
      onSaved();
    } catch (err) {
      setErrors(err instanceof RequestFailed ? err.errors.map(onForm) : [{ message: String(err), code: 'ERROR' }]);
    }
  };
  return (
    <form onSubmit={submit} noValidate class="report">
      <fieldset>
        <legend>Record a meeting</legend>
        <div class="field">
          <label for="m-held">Held on</label>
          <input id="m-held" type="date" value={heldOn} {...invalid(errors, 'input.heldOn')} onInput={(e) => setHeldOn((e.target as HTMLInputElement).value)} />
          <FieldError errors={errors} name="input.heldOn" />
        </div>
        <div class="field">
          <label for="m-attendees">Attendees, one a line: name, role</label>
          <textarea
            id="m-attendees"
            rows={3}
            value={attendees}
            aria-describedby={errorAt(errors, 'input.attendees') ? `m-attendees-hint ${errorId('input.attendees')}` : 'm-attendees-hint'}
            aria-invalid={errorAt(errors, 'input.attendees') ? 'true' : 'false'} onInput={(e) => setAttendees((e.target as HTMLTextAreaElement).value)} />
          <p class="hint" id="m-attendees-hint">{NO_PUPIL_DATA}</p>
          <FieldError errors={errors} name="input.attendees" />
        </div>
        {items.map((it, i) => (
          <div class="field">
            <label for={`m-item-${i}`}>Agenda item {i + 1}</label>
            <input id={`m-item-${i}`} value={it.title} {...invalid(errors, `input.items.${i}.title`)} onInput={(e) => setItems(items.map((x, j) => (j === i ? { ...x, title: (e.target as HTMLInputElement).value } : x)))} />
            <FieldError errors={errors} name={`input.items.${i}.title`} />
            <label for={`m-points-${i}`}>Key points</label>
            <textarea id={`m-points-${i}`} rows={2} value={it.keyPoints} aria-describedby="m-attendees-hint" onInput={(e) => setItems(items.map((x, j) => (j === i ? { ...x, keyPoints: (e.target as HTMLTextAreaElement).value } : x)))} />
            <FieldError errors={errors} name={`input.items.${i}.keyPoints`} />
          </div>
        ))}
        <button type="button" class="link" onClick={() => setItems([...items, { title: '', keyPoints: '' }])}>
          Add an agenda item
        </button>
        <FieldError errors={errors} name="input.items" />
      </fieldset>
      <fieldset>
        <legend>Actions agreed</legend>
        {actions.map((a, i) => (
          <div class="field">
            <label for={`a-desc-${i}`}>Action {i + 1}</label>
            <input id={`a-desc-${i}`} value={a.description} {...invalid(errors, `input.actions.${i}.description`)} onInput={(e) => setActions(actions.map((x, j) => (j === i ? { ...x, description: (e.target as HTMLInputElement).value } : x)))} />
            <FieldError errors={errors} name={`input.actions.${i}.description`} />
            <label for={`a-owner-${i}`}>By whom (action {i + 1})</label>
            <input id={`a-owner-${i}`} value={a.owner} {...invalid(errors, `input.actions.${i}.owner`)} onInput={(e) => setActions(actions.map((x, j) => (j === i ? { ...x, owner: (e.target as HTMLInputElement).value } : x)))} />
            <FieldError errors={errors} name={`input.actions.${i}.owner`} />
            <label for={`a-due-${i}`}>By when (action {i + 1})</label>
            <input id={`a-due-${i}`} type="date" value={a.dueOn} {...invalid(errors, `input.actions.${i}.dueOn`)} onInput={(e) => setActions(actions.map((x, j) => (j === i ? { ...x, dueOn: (e.target as HTMLInputElement).value } : x)))} />
            <FieldError errors={errors} name={`input.actions.${i}.dueOn`} />
          </div>
        ))}
        <button type="button" class="link" onClick={() => setActions([...actions, { description: '', owner: '', dueOn: '' }])}>
          Add an action
        </button>
        <FieldError errors={errors} name="input.actions" />
      </fieldset>
      <div class="field">
        <label for="m-next">Next meeting</label>
        <input id="m-next" type="date" value={nextOn} {...invalid(errors, 'input.nextMeetingOn')} onInput={(e) => setNextOn((e.target as HTMLInputElement).value)} />
        <FieldError errors={errors} name="input.nextMeetingOn" />
      </div>
      <Outcome errors={errors} saved={saved} />
      <button type="submit">Record the meeting</button>
    </form>
  );
}

function SignOffForm({ urn, reports, onSaved }: { urn: number; reports: any[]; onSaved: () => void }) {
  const due = latestDue(new Date());
  const report = reports.find((r) => r.academicYear === due.year && r.term === due.term);
  const [signedBy, setSignedBy] = useState('');
  const [role, setRole] = useState('CHAIR');
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [saved, setSaved] = useState<string | null>(null);
  if (!report) return <p class="muted">There is no report for {label(due)} to sign off yet.</p>;
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors([]);
    try {
      const d = await run<any>('SignOffDocument', {
        input: { schoolUrn: urn, document: 'TERMLY_REPORT', academicYear: due.year, term: due.term, reportVersion: report.version, signedOn: todayInLondon(), signedBy, role },
      });
      setSaved(`Signed off version ${d.signOffDocument.reportVersion} of the ${label(due)} report.`);
      onSaved();
    } catch (err) {
      setErrors(err instanceof RequestFailed ? err.errors : [{ message: String(err), code: 'ERROR' }]);
    }
  };
  return (
    <form onSubmit={submit} noValidate class="report">
      <p>
        The {label(due)} termly report, version {report.version}. Signing it off records the governing body's statement that it is
        accurate and compliant with current legislation as it applies to the school on that date.
      </p>
      <div class="field">
        <label for="s-by">Signed by</label>
        <input id="s-by" value={signedBy} onInput={(e) => setSignedBy((e.target as HTMLInputElement).value)} />
        <FieldError errors={errors} name="input.signedBy" />
      </div>
      <div class="field">
        <label for="s-role">Role</label>
        <select id="s-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
          {['CHAIR', 'SEN_GOVERNOR', 'TRUSTEE', 'OTHER'].map((r) => (
            <option value={r}>{humanise(r)}</option>
          ))}
        </select>
      </div>
      <Outcome errors={errors} saved={saved} />
      <button type="submit">Sign off the report</button>
    </form>
  );
}

export function GovernorView({ urn }: { urn: number }) {
  const q = useQuery<any>('Governance', { urn });
  const today = todayInLondon();
  return (
    <Status q={q}>
      {(d) => {
        const s = d.school;
        const actions: any[] = s.governanceActions;
        const overdue = actions.filter((a) => a.status === 'OPEN' && a.dueOn < today);
        const carried = new Set<string>(s.governorMeetings.edges.flatMap((e: any) => e.node.carriedForward.map((a: any) => a.id)));
        return (
          <>
            <h1>{s.name}: governance</h1>
            <p class="muted">
              <a href={`#/school/${s.urn}`}>School page</a> · <a href={`#/school/${s.urn}/pack`}>Governor pack</a>
            </p>
            <Section title="Action register" id="actions">
              <p>
                {actions.filter((a) => a.status === 'OPEN').length} open, <strong class={overdue.length ? 'bad-text' : ''}>{overdue.length} overdue</strong>.
              </p>
              <div class="scroll">
                <table>
                  <caption class="visually-hidden">Actions</caption>
                  <thead>
                    <tr>
                      <th scope="col">Action</th>
                      <th scope="col">By whom</th>
                      <th scope="col">By when</th>
                      <th scope="col">Status</th>
                      <th scope="col">From</th>
                    </tr>
                  </thead>
                  <tbody>
                    {actions.map((a) => (
                      <tr>
                        <td>{a.description ?? <span class="muted">(not shown to LA readers)</span>}</td>
                        <td>{a.owner}</td>
                        <td>{formatDate(a.dueOn)}</td>
                        <td>
                          <span class={`badge ${a.status === 'OPEN' && a.dueOn < today ? 'OVERDUE' : a.status === 'DONE' ? 'QUALIFIED' : 'IN_TRAINING'}`}>
                            {a.status === 'OPEN' && a.dueOn < today ? 'Overdue' : humanise(a.status)}
                          </span>
                          {carried.has(a.id) && <span class="muted"> carried forward</span>}
                          {a.status === 'OPEN' && (
                            <>
                              {' '}
                              <button
                                type="button"
                                class="link"
                                onClick={() => run('UpdateGovernanceAction', { input: { actionId: a.id, status: 'DONE', completedOn: today } }).then(q.reload)}
                              >
                                Mark done<span class="visually-hidden">: {a.description}</span>
                              </button>
                            </>
                          )}
                        </td>
                        <td>{a.meeting ? `meeting of ${formatDate(a.meeting.heldOn)}` : 'SEN action plan'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Section>
            <Section title="SENCO-governor meetings" id="meetings">
              {s.governorMeetings.edges.length === 0 && <p class="muted">None recorded yet.</p>}
              <ul class="cards">
                {s.governorMeetings.edges.map(({ node }: any) => (
                  <li class="card">
                    <h3>{formatDate(node.heldOn)}</h3>
                    <p>{node.attendees.map((a: any) => `${a.name ?? '—'} (${a.role})`).join(', ')}</p>
                    <ul>
                      {node.items.map((i: any) => (
                        <li>
                          <strong>{i.title}</strong>
                          {i.keyPoints && `: ${i.keyPoints}`}
                        </li>
                      ))}
                    </ul>
                    <p>
                      {node.actions.length} {node.actions.length === 1 ? 'action' : 'actions'} agreed; {node.carriedForward.length} carried forward; next meeting {formatDate(node.nextMeetingOn)}.
                    </p>
                  </li>
                ))}
              </ul>
              <MeetingForm urn={s.urn} onSaved={q.reload} />
            </Section>
            <Section title="Sign-off" id="signoff">
              <ul>
                {s.signOffs.map((o: any) => (
                  <li>
                    {humanise(o.document)} {o.academicYear ? label({ year: o.academicYear, term: o.term }) : formatDate(o.documentDate)}
                    {o.reportVersion && ` version ${o.reportVersion}`}: signed {formatDate(o.signedOn)} by {o.signedBy} ({humanise(o.role)}){' '}
                    {o.current ? <span class="badge QUALIFIED">Current</span> : <span class="badge NOT_STARTED">Superseded</span>}
                  </li>
                ))}
              </ul>
              <SignOffForm urn={s.urn} reports={s.termlyReports} onSaved={q.reload} />
            </Section>
          </>
        );
      }}
    </Status>
  );
}
