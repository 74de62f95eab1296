#!/usr/bin/env bash
# LA dashboard: the SENCO qualification deadlines of one local authority's schools, soonest
# first, with curl. Prints the JSON answer (through jq when it is installed).
#
#   export SENCO_URL=http://127.0.0.1:8080/graphql SENCO_TOKEN=<an la:202:read token>
#   examples/la_dashboard.sh 202                       # every deadline in LA 202
#   examples/la_dashboard.sh 202 OVERDUE,NOT_STARTED   # only those statuses
#
# Up to 250 rows (the largest page); pass the answer's pageInfo.endCursor as AFTER, a third
# argument, for the next page.
set -euo pipefail

URL="${SENCO_URL:-http://127.0.0.1:8080/graphql}"
LA="${1:-202}"
STATUSES="${2:-}"
AFTER="${3:-}"
: "${SENCO_TOKEN:?set SENCO_TOKEN to a token that reads the LA, e.g. la:202:read}"

[[ "$LA" =~ ^[0-9]+$ ]] || { echo "LA code must be a number, not '$LA'" >&2; exit 2; }
[[ "$STATUSES" =~ ^[A-Z_,]*$ ]] || { echo "statuses are like OVERDUE,IN_TRAINING" >&2; exit 2; }
[[ "$AFTER" =~ ^[A-Za-z0-9_=-]*$ ]] || { echo "AFTER is a cursor from pageInfo.endCursor" >&2; exit 2; }

# One line, so it can sit in a JSON string; the values travel as variables.
QUERY='query LaDeadlines($filter: DeadlineFilter!, $after: String) {
  qualificationDeadlines(filter: $filter, first: 250, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      school { urn name }
      person { fullName }
      appointment { id startedOn }
      dutyApplies exemptionReason status deadline daysRemaining
      qualifyingAward { kind completedOn }
    } }
  }
}'
QUERY=$(printf '%s' "$QUERY" | tr '\n' ' ')

statuses_json="null"
if [ -n "$STATUSES" ]; then
    statuses_json="[\"${STATUSES//,/\",\"}\"]"
fi
after_json="null"
[ -n "$AFTER" ] && after_json="\"$AFTER\""
BODY=$(printf '{"query":"%s","operationName":"LaDeadlines","variables":{"filter":{"laCode":%s,"statuses":%s},"after":%s}}' \
    "$QUERY" "$LA" "$statuses_json" "$after_json")

pretty() { if command -v jq >/dev/null; then jq .; else cat; echo; fi; }

# --fail-with-body: a 401 (bad token) exits non-zero but still shows the error's code.
ANSWER=$(curl --silent --show-error --fail-with-body "$URL" \
    -H "Authorization: Bearer $SENCO_TOKEN" \
    -H 'Content-Type: application/json' \
    -H 'Accept: application/graphql-response+json, application/json' \
    --data "$BODY") || { printf '%s\n' "$ANSWER" >&2; exit 1; }
printf '%s' "$ANSWER" | pretty
# A refusal (FORBIDDEN for an LA the token does not cover, BAD_USER_INPUT, ...) is an error.
case "$ANSWER" in *'"errors"'*) exit 1 ;; esac
