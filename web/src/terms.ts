// Academic terms as SPEC 4.5 defines them: the academic year is the calendar year it starts
// in; AUTUMN 1 Sep - 31 Dec, SPRING 1 Jan - 31 Mar, SUMMER 1 Apr - 31 Aug of the next; a
// report is due 14 days after its term ends.
export type TermName = 'AUTUMN' | 'SPRING' | 'SUMMER';
export interface AcademicTerm {
  year: number;
  term: TermName;
}

const ORDER: TermName[] = ['AUTUMN', 'SPRING', 'SUMMER'];

export function endsOn(t: AcademicTerm): Date {
  switch (t.term) {
    case 'AUTUMN':
      return new Date(Date.UTC(t.year, 11, 31));
    case 'SPRING':
      return new Date(Date.UTC(t.year + 1, 2, 31));
    case 'SUMMER':
      return new Date(Date.UTC(t.year + 1, 7, 31));
  }
}

export function previous(t: AcademicTerm): AcademicTerm {
  const i = ORDER.indexOf(t.term);
  return i === 0 ? { year: t.year - 1, term: 'SUMMER' } : { year: t.year, term: ORDER[i - 1] };
}

/** The latest term whose report fell due before `today` (the server's `latest_due_by`). */
export function latestDue(today: Date): AcademicTerm {
  const m = today.getUTCMonth();
  const y = today.getUTCFullYear();
  // The term in progress: Sep-Dec is autumn of this year's academic year, Jan-Mar spring and
  // Apr-Aug summer of last year's.
  let t: AcademicTerm =
    m >= 8 ? { year: y, term: 'AUTUMN' } : m <= 2 ? { year: y - 1, term: 'SPRING' } : { year: y - 1, term: 'SUMMER' };
  for (;;) {
    const due = endsOn(t).getTime() + 14 * 86400000;
    if (due < today.getTime()) return t;
    t = previous(t);
  }
}

/** The `n` terms up to and including `last`, oldest first. */
export function lastTerms(last: AcademicTerm, n: number): AcademicTerm[] {
  const out = [last];
  while (out.length < n) out.unshift(previous(out[0]));
  return out;
}

export function label(t: AcademicTerm): string {
  const name = t.term[0] + t.term.slice(1).toLowerCase();
  return `${name} ${t.year}/${String((t.year + 1) % 100).padStart(2, '0')}`;
}

/** Today in Europe/London as YYYY-MM-DD, the server's default `asOf`. */
export function todayInLondon(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
}
