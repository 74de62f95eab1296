#!/usr/bin/env python3
"""Trust report: every school of one academy trust with its current SENCO and where their
mandatory qualification stands (SEND Regulations 2014, reg 49), as CSV.

Pages through `schools(filter: {trustUid: N}, first: 250)` with the `gql` client, which
fetches the schema from the server first and checks the query against it before sending.

    pip install -r examples/requirements.txt
    export SENCO_URL=http://127.0.0.1:8080/graphql SENCO_TOKEN=<a trust:2044:read token>
    python3 examples/trust_report.py --trust 2044 --output trust-2044.csv

One row per current SENCO appointment (a school with none has one row with the SENCO
columns empty). Without --trust, the trust is the one the token's scopes name.
"""

import argparse
import csv
import datetime
import os
import sys

from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

SCHOOLS = gql(
    """
    query TrustSchools($trust: Int!, $after: String, $on: Date!) {
      # 250 is the largest page the API serves.
      schools(filter: { trustUid: $trust }, first: 250, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges {
          node {
            urn
            name
            phase
            numberOnRoll
            localAuthority { code name }
            trust { uid name }
            sencoAppointments(currentOn: $on) {
              startedOn
              isHeadteacher
              eligible
              eligibilityIssues
              person { fullName }
              qualification(asOf: $on) {
                dutyApplies
                exemptionReason
                status
                deadline
                daysRemaining
                qualifyingAward { kind completedOn }
              }
            }
          }
        }
      }
    }
    """
)

VIEWER = gql("query Viewer { viewer { sub scopes } }")

COLUMNS = [
    "trust_uid",
    "urn",
    "school",
    "la_code",
    "la_name",
    "phase",
    "number_on_roll",
    "senco",
    "senco_started_on",
    "senco_is_headteacher",
    "eligible",
    "eligibility_issues",
    "qualification_status",
    "duty_applies",
    "exemption_reason",
    "deadline",
    "days_remaining",
    "qualifying_award",
    "award_completed_on",
]


def london_today() -> datetime.date:
    """Today in England, the day the API's statuses are computed for by default."""
    try:
        from zoneinfo import ZoneInfo

        return datetime.datetime.now(ZoneInfo("Europe/London")).date()
    except Exception:  # no time zone database on this machine
        return datetime.date.today()


def flag(value):
    """A GraphQL Boolean as spreadsheets and the API's own CSV exports write it."""
    return None if value is None else str(value).lower()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--url",
        default=os.environ.get("SENCO_URL", "http://127.0.0.1:8080/graphql"),
        help="the GraphQL endpoint (env SENCO_URL; default %(default)s)",
    )
    p.add_argument(
        "--token",
        default=os.environ.get("SENCO_TOKEN"),
        help="a bearer token with a trust:N:read scope (env SENCO_TOKEN)",
    )
    p.add_argument("--trust", type=int, help="the trust's UID (default: the token's trust)")
    p.add_argument(
        "--as-of",
        type=datetime.date.fromisoformat,
        default=london_today(),
        help="the day to report on, YYYY-MM-DD (default: today in Europe/London)",
    )
    p.add_argument("--output", "-o", help="the CSV file to write (default: standard output)")
    args = p.parse_args()
    if not args.token:
        p.error("a token is needed: --token or SENCO_TOKEN")
    return args


def trust_of(client: Client) -> int:
    """The one trust the token's scopes name, as in `trust:2044:read`."""
    scopes = client.execute(VIEWER)["viewer"]["scopes"]
    trusts = {int(s.split(":")[1]) for s in scopes if s.startswith("trust:")}
    if len(trusts) != 1:
        raise SystemExit(f"give --trust: the token's scopes {scopes} name {len(trusts)} trusts")
    return trusts.pop()


def rows(client: Client, trust: int, on: datetime.date):
    """Yields one dict per CSV row, a page of 250 schools at a time."""
    after = None
    while True:
        request = GraphQLRequest(
            SCHOOLS, variable_values={"trust": trust, "after": after, "on": on.isoformat()}
        )
        page = client.execute(request)["schools"]
        for edge in page["edges"]:
            school = edge["node"]
            base = {
                "trust_uid": trust,
                "urn": school["urn"],
                "school": school["name"],
                "la_code": school["localAuthority"]["code"],
                "la_name": school["localAuthority"]["name"],
                "phase": school["phase"],
                "number_on_roll": school["numberOnRoll"],
            }
            appointments = school["sencoAppointments"]
            if not appointments:
                yield base
            for a in appointments:
                q = a["qualification"]
                award = q["qualifyingAward"] or {}
                yield {
                    **base,
                    "senco": a["person"]["fullName"],
                    "senco_started_on": a["startedOn"],
                    "senco_is_headteacher": flag(a["isHeadteacher"]),
                    "eligible": flag(a["eligible"]),
                    "eligibility_issues": " ".join(a["eligibilityIssues"]),
                    "qualification_status": q["status"],
                    "duty_applies": flag(q["dutyApplies"]),
                    "exemption_reason": q["exemptionReason"],
                    "deadline": q["deadline"],
                    "days_remaining": q["daysRemaining"],
                    "qualifying_award": award.get("kind"),
                    "award_completed_on": award.get("completedOn"),
                }
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


def main() -> int:
    args = parse_args()
    transport = RequestsHTTPTransport(
        url=args.url,
        headers={"Authorization": f"Bearer {args.token}"},
        timeout=60,
        retries=2,
    )
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    written = 0
    schools = set()
    try:
        # The schema is fetched by introspection, and every query is checked against it.
        with Client(transport=transport, fetch_schema_from_transport=True) as client:
            trust = args.trust if args.trust is not None else trust_of(client)
            writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in rows(client, trust, args.as_of):
                writer.writerow(row)
                written += 1
                schools.add(row["urn"])
    except TransportQueryError as e:
        # The API's errors carry extensions.code (UNAUTHENTICATED, FORBIDDEN, ...).
        print(f"the API refused the query: {e}", file=sys.stderr)
        return 1
    except TransportError as e:
        print(f"could not reach {args.url}: {e}", file=sys.stderr)
        return 1
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"{written} rows for {len(schools)} schools of trust {trust}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
