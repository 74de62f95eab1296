// The console's one way to the server: trusted documents by id over POST /graphql, and the
// CSV exports, both with the signed-in token (SPEC 6 and 8).
import { documents, type Operation } from './generated/documents';
import { session } from './session';

/** A GraphQL error as the server sends it: a code, and for bad input the field it names. */
export interface ApiError {
  message: string;
  code: string;
  field?: string;
}

export class RequestFailed extends Error {
  constructor(public errors: ApiError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

/** Runs the console operation `name`; resolves with its data or rejects with its errors. */
export async function run<T>(name: Operation, variables: Record<string, unknown> = {}): Promise<T> {
  const token = session.token();
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/graphql-response+json, application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ documentId: documents[name], variables }),
    });
  } catch {
    throw new RequestFailed([{ message: 'The server could not be reached.', code: 'NETWORK' }]);
  }
  if (response.status === 401) {
    session.expired();
  }
  const body = await response.json().catch(() => null);
  const errors: ApiError[] = (body?.errors ?? []).map((e: any) => ({
    message: String(e.message ?? 'error'),
    code: String(e.extensions?.code ?? 'ERROR'),
    field: e.extensions?.field ? String(e.extensions.field) : undefined,
  }));
  if (errors.length > 0 || !body?.data) {
    throw new RequestFailed(errors.length > 0 ? errors : [{ message: `HTTP ${response.status}`, code: 'HTTP' }]);
  }
  return body.data as T;
}

/** Downloads `/export/{dataset}.csv` with the token (a plain link could not send it). */
export async function download(dataset: string, query: Record<string, string | undefined>): Promise<void> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== '') params.set(k, v);
  }
  const token = session.token();
  const response = await fetch(`/export/${dataset}.csv?${params}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new RequestFailed([{ message: body?.errors?.[0]?.message ?? `HTTP ${response.status}`, code: 'HTTP' }]);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${dataset}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
