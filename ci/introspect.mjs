// Fetches the schema from a running SENCO Oversight server with graphql-js's own
// introspection query, as GraphiQL, code generators and most clients do, and fails unless
// the answer has no errors, builds into a schema, and has the School type.
//
//   node ci/introspect.mjs http://127.0.0.1:8080/graphql
import { buildClientSchema, getIntrospectionQuery } from 'graphql';

const url = process.argv[2];
if (!url) {
  console.error('usage: node ci/introspect.mjs URL');
  process.exit(2);
}

// The default query, and the one with every option graphql-js knows (newer clients).
const variants = {
  default: {},
  full: {
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  },
};

let failed = 0;
for (const [name, options] of Object.entries(variants)) {
  const fail = (why) => {
    console.log(`FAIL introspection (${name}): ${why}`);
    failed += 1;
  };
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: getIntrospectionQuery(options), operationName: 'IntrospectionQuery' }),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    fail(`HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
    continue;
  }
  if (response.status !== 200) {
    fail(`HTTP ${response.status}: ${text.slice(0, 300)}`);
    continue;
  }
  if (body.errors?.length) {
    fail(`errors: ${JSON.stringify(body.errors)}`);
    continue;
  }
  const types = body.data?.__schema?.types ?? [];
  if (!types.some((t) => t.name === 'School')) {
    fail(`no School among ${types.length} types`);
    continue;
  }
  try {
    const schema = buildClientSchema(body.data);
    const mine = Object.keys(schema.getTypeMap()).filter((t) => !t.startsWith('__'));
    console.log(`introspection (${name}): ${types.length} types (${mine.length} not built in), School present`);
  } catch (e) {
    fail(`does not build into a schema: ${e.message}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
