// Runs the graphql-http server audits (GraphQL-over-HTTP conformance) against a running
// SENCO Oversight server and fails when a mandatory ("MUST") audit fails.
//
//   node ci/graphql-http-audit.mjs http://127.0.0.1:8080/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node ci/graphql-http-audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
let failedMust = 0;
const counts = {};
for (const r of results) {
  counts[r.status] = (counts[r.status] ?? 0) + 1;
  const must = r.name.startsWith('MUST');
  if (r.status !== 'ok') {
    console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason}`);
    if (must) failedMust += 1;
  }
}
console.log(`graphql-http audits: ${JSON.stringify(counts)}; ${failedMust} mandatory failed`);
process.exit(failedMust === 0 ? 0 : 1);
