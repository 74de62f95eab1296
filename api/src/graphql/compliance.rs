//! Compliance issues (SPEC 4.6 and 4.7) and the audit log over GraphQL.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::NaiveDate;
use entity::audit_event;

use crate::domain::clusters::cluster_issues;
use crate::domain::compliance::{ClusterChecks, FoundIssue, Issue, gather, school_issues};
use crate::domain::qualification::is_current_on;
use crate::domain::school::Urn;
use crate::error::ApiResult;
use crate::graphql::clusters::Cluster;
use crate::graphql::schools::{School, SchoolFilter};
use crate::graphql::{Date, DateTime, connection, connection_type, loaders, page, rc, today};
use crate::service;
use crate::store::{self, audit, scope};

/// How serious a compliance issue is, by where the duty comes from.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::compliance::Severity")]
pub enum Severity {
    /// Breaches primary or secondary legislation (the Children and Families Act 2014, the
    /// SEND Regulations 2014).
    Statutory,
    /// Departs from the SEND Code of Practice, which schools must have regard to.
    Guidance,
    /// Falls short of good practice the product asks for.
    Advisory,
}

/// Something about a school or a shared-SENCO cluster that needs attention.
pub struct ComplianceIssue {
    issue: Issue,
    cluster_id: Option<i64>,
}

impl From<FoundIssue> for ComplianceIssue {
    fn from(f: FoundIssue) -> Self {
        Self {
            issue: f.issue,
            cluster_id: f.cluster_id,
        }
    }
}

/// Something about a school or a shared-SENCO cluster that needs attention.
#[Object]
impl ComplianceIssue {
    /// A stable code, e.g. `NO_SENCO` or `INSUFFICIENT_TIME` (SPEC 4.6 and 4.7).
    async fn code(&self) -> &str {
        self.issue.code
    }
    /// How serious it is.
    async fn severity(&self) -> Severity {
        self.issue.severity.into()
    }
    /// The school it is about; null for an issue about a cluster as a whole.
    async fn school(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<School>> {
        let Some(urn) = self.issue.school_urn else {
            return Ok(None);
        };
        let l = loaders(ctx)?;
        Ok(loaders::one(&l.schools, urn).await?.map(School))
    }
    /// The cluster it comes from; null for the checks on a school of its own.
    async fn cluster(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Cluster>> {
        let Some(id) = self.cluster_id else {
            return Ok(None);
        };
        let l = loaders(ctx)?;
        Ok(loaders::one(&l.clusters, id).await?.map(Cluster))
    }
    /// What is wrong and the rule it breaks, in plain English; never names a person.
    async fn message(&self) -> &str {
        &self.issue.message
    }
}

connection_type!(
    ComplianceIssueConnection,
    ComplianceIssueEdge,
    ComplianceIssue,
    "compliance issues",
    #[doc = "How many issues there are of each code, over the whole filtered list (not the page): most severe first, then by code."]
    counts: Vec<IssueCount>,
);

/// How many issues of one code a list has.
#[derive(SimpleObject, Clone)]
pub struct IssueCount {
    /// The issue code.
    code: String,
    /// Its severity.
    severity: Severity,
    /// How many.
    count: u64,
}

/// The compliance issues of one school as of `asOf`: its own checks (SPEC 4.7) and the
/// member-level checks of clusters it belongs to that are active then (SPEC 4.6).
pub async fn school_compliance(
    ctx: &Context<'_>,
    urn: i32,
    as_of: NaiveDate,
) -> ApiResult<Vec<ComplianceIssue>> {
    let l = loaders(ctx)?;
    let th = rc(ctx)?.config.cluster_thresholds;
    let own = match loaders::one(&l.school_facts, (urn, as_of)).await? {
        Some(facts) => school_issues(&facts, as_of),
        None => Vec::new(),
    };
    let mut clusters = Vec::new();
    for id in loaders::one(&l.clusters_of_school, urn)
        .await?
        .unwrap_or_default()
    {
        let Some(state) = loaders::one(&l.cluster_states, (id, as_of)).await? else {
            continue;
        };
        let c = &state.cluster;
        if is_current_on(c.started_on, c.ended_on, as_of) {
            clusters.push(ClusterChecks {
                id,
                name: c.name.clone(),
                issues: cluster_issues(&state.facts, as_of, &th),
            });
        }
    }
    Ok(gather(own, clusters, |u| u == Some(urn))
        .into_iter()
        .map(ComplianceIssue::from)
        .collect())
}

/// One change recorded in the audit log.
#[derive(SimpleObject)]
pub struct AuditEvent {
    /// The event's id (ascending in time).
    pub id: ID,
    /// When the change was committed.
    pub occurred_at: DateTime,
    /// The `sub` of the token that made it.
    pub actor: String,
    /// The mutation, e.g. `appointSenco`.
    pub operation: String,
    /// The school it concerns; null for reference data not tied to a school.
    pub school_urn: Option<i32>,
    /// The kind of row changed, e.g. `senco_appointment`.
    pub entity: String,
    /// The changed row's id.
    pub row_id: String,
    /// The row before the change, as JSON; null when created.
    pub before: Option<String>,
    /// The row after the change, as JSON; null when deleted.
    pub after: Option<String>,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(m: audit_event::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            occurred_at: DateTime(m.occurred_at),
            actor: m.actor,
            operation: m.operation,
            school_urn: m.school_urn,
            entity: m.entity,
            row_id: m.row_id,
            before: m.before,
            after: m.after,
        }
    }
}

connection_type!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "audit events"
);

/// Compliance and audit queries.
#[derive(Default)]
pub struct ComplianceQuery;

#[Object]
impl ComplianceQuery {
    /// Every compliance issue, school checks and cluster checks, across the schools the
    /// caller may read that match `filter`: most severe first, then by school (cluster-wide
    /// issues first), code and cluster.
    #[allow(clippy::too_many_arguments)] // the field's GraphQL arguments
    async fn compliance_issues(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only issues of schools matching this.")] filter: Option<SchoolFilter>,
        #[graphql(desc = "The date to check on; today in Europe/London when omitted.")]
        as_of: Option<Date>,
        #[graphql(desc = "Only these severities; all when omitted.")] severities: Option<
            Vec<Severity>,
        >,
        #[graphql(desc = "Only these issue codes (for example `NO_SENCO`); all when omitted.")]
        codes: Option<Vec<String>>,
        #[graphql(desc = "Page size, 0 to 250 (default 50); 0 gives only the total.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<ComplianceIssueConnection> {
        let rc = rc(ctx)?;
        let has_prev = after.as_deref().is_some_and(|a| !a.is_empty());
        let page = page(first, after, decode_issue_cursor)?;
        let q = service::compliance::IssueQuery {
            schools: filter.unwrap_or_default().into_query("filter")?,
            severities: severities.map(|v| v.into_iter().map(Into::into).collect()),
            codes: codes.map(|v| v.into_iter().map(|c| c.trim().to_string()).collect()),
        };
        let as_of = as_of.map_or_else(today, |d| d.0);
        let all = service::compliance::issues(
            &rc.db,
            &rc.principal,
            &q,
            as_of,
            &rc.config.cluster_thresholds,
        )
        .await?;
        let counts = service::compliance::counts(&all)
            .into_iter()
            .map(|(code, severity, count)| IssueCount {
                code: code.to_string(),
                severity: severity.into(),
                count,
            })
            .collect();
        let total = all.len() as u64;
        let rows: Vec<FoundIssue> = all
            .into_iter()
            .filter(|f| {
                page.after.as_ref().is_none_or(|(r, u, c, id)| {
                    let k = f.sort_key();
                    (k.0, k.1, k.2, k.3) > (*r, *u, c.as_str(), *id)
                })
            })
            .take(page.first as usize + 1)
            .collect();
        let paged = store::Paged::from_overfetch(rows, page.first, total);
        let mut out: ComplianceIssueConnection = connection(paged, has_prev, |f| {
            let (r, u, c, id) = f.sort_key();
            (format!("i:{r}:{u}:{c}:{id}"), ComplianceIssue::from(f))
        })
        .into();
        out.counts = counts;
        Ok(out)
    }

    /// The changes made to one school's records, newest first; for callers who may read
    /// the school.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The school's URN.")] school_urn: i32,
        #[graphql(desc = "Page size, 0 to 250 (default 50); 0 gives only the total.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<AuditEventConnection> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let has_prev = after.as_deref().is_some_and(|a| !a.is_empty());
        let page = page(first, after, |c| c.strip_prefix("a:")?.parse::<i64>().ok())?;
        let paged = audit::for_school(&rc.db.conn, &rc.principal, Urn(school_urn), page).await?;
        Ok(connection(paged, has_prev, |e| {
            (format!("a:{}", e.id), AuditEvent::from(e))
        })
        .into())
    }
}

fn decode_issue_cursor(c: &str) -> Option<(u8, i32, String, i64)> {
    let mut parts = c.strip_prefix("i:")?.split(':');
    let rank = parts.next()?.parse().ok()?;
    let urn = parts.next()?.parse().ok()?;
    let code = parts.next()?.to_owned();
    let id = parts.next()?.parse().ok()?;
    Some((rank, urn, code, id))
}
