//! Shared-SENCO clusters, compliance issues and the audit log over GraphQL (SPEC 4.6, 4.7
//! and 5).

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::NaiveDate;
use entity::{audit_event, cluster};

use crate::domain::clusters::{cluster_issues, next_review_due};
use crate::domain::compliance::{ClusterChecks, FoundIssue, Issue, gather, school_issues};
use crate::domain::qualification::is_current_on;
use crate::domain::validation;
use crate::error::{ApiError, ApiResult};
use crate::graphql::schools::{School, SchoolFilter, parse_id};
use crate::graphql::sencos::Person;
use crate::graphql::{Date, DateTime, connection, connection_type, loaders, page, rc, today};
use crate::service;
use crate::store::{self, audit, clusters, compliance, scope};

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
    "compliance issues"
);

/// A shared-SENCO arrangement between schools (SEND Code of Practice 6.92 - 6.94).
pub struct Cluster(pub cluster::Model);

connection_type!(ClusterConnection, ClusterEdge, Cluster, "clusters");

impl Cluster {
    async fn state(
        &self,
        ctx: &Context<'_>,
        as_of: NaiveDate,
    ) -> ApiResult<clusters::ClusterState> {
        let l = loaders(ctx)?;
        loaders::one(&l.cluster_states, (self.0.id, as_of))
            .await?
            .ok_or_else(|| ApiError::internal("cluster state missing"))
    }
}

/// Keeps the member-level issues of schools the caller may read, and cluster-wide ones.
async fn readable_issues(
    ctx: &Context<'_>,
    issues: Vec<Issue>,
    cluster_id: Option<i64>,
) -> ApiResult<Vec<ComplianceIssue>> {
    let rc = rc(ctx)?;
    let l = loaders(ctx)?;
    let mut out = Vec::with_capacity(issues.len());
    for issue in issues {
        if let Some(urn) = issue.school_urn {
            let readable = loaders::one(&l.schools, urn)
                .await?
                .is_some_and(|s| scope::can_read(&rc.principal, &s));
            if !readable {
                continue;
            }
        }
        out.push(ComplianceIssue { issue, cluster_id });
    }
    Ok(out)
}

/// A shared-SENCO arrangement between schools. Visible to callers who may read at least
/// one member; members they may not read are left out of `members` and `issues`.
#[Object]
impl Cluster {
    /// The cluster's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The SENCO the members share.
    async fn senco(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        let l = loaders(ctx)?;
        Ok(Person(
            loaders::one(&l.people, self.0.senco_person_id)
                .await?
                .ok_or_else(|| ApiError::internal("cluster without SENCO"))?,
        ))
    }
    /// The member schools the caller may read, by URN.
    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<School>> {
        let rc = rc(ctx)?;
        let l = loaders(ctx)?;
        let urns = loaders::one(&l.cluster_members, self.0.id)
            .await?
            .unwrap_or_default();
        let mut out = Vec::with_capacity(urns.len());
        for urn in urns {
            if let Some(s) = loaders::one(&l.schools, urn).await?
                && scope::can_read(&rc.principal, &s)
            {
                out.push(School(s));
            }
        }
        Ok(out)
    }
    /// When the arrangement began.
    async fn started_on(&self) -> Date {
        Date(self.0.started_on)
    }
    /// When it was last reviewed; null if never.
    async fn last_reviewed_on(&self) -> Option<Date> {
        self.0.last_reviewed_on.map(Date)
    }
    /// Months between reviews (12 unless set).
    async fn review_interval_months(&self) -> i32 {
        self.0.review_interval_months
    }
    /// The last review (or the start, if never reviewed) plus the review interval.
    async fn next_review_due(&self) -> Date {
        Date(next_review_due(
            self.0.started_on,
            self.0.last_reviewed_on,
            self.0.review_interval_months,
        ))
    }
    /// When the arrangement ended; null while it runs.
    async fn ended_on(&self) -> Option<Date> {
        self.0.ended_on.map(Date)
    }
    /// The members' combined number on roll (all members, a figure rather than a school's
    /// detail); a member with no recorded roll counts as none.
    async fn total_number_on_roll(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.state(ctx, today()).await?.total_number_on_roll())
    }
    /// The SENCO's non-contact hours a week across the members, from their appointments
    /// current today.
    async fn total_non_contact_hours_per_week(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<f64> {
        Ok(self.state(ctx, today()).await?.total_non_contact_hours())
    }
    /// The checks of SPEC 4.6 as of `asOf`, most severe first.
    async fn issues(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The date to check on; today in Europe/London when omitted.")]
        as_of: Option<Date>,
    ) -> async_graphql::Result<Vec<ComplianceIssue>> {
        let as_of = as_of.map_or_else(today, |d| d.0);
        let state = self.state(ctx, as_of).await?;
        let th = rc(ctx)?.config.cluster_thresholds;
        let mut issues = cluster_issues(&state.facts, as_of, &th);
        crate::domain::compliance::sort_issues(&mut issues);
        Ok(readable_issues(ctx, issues, Some(self.0.id)).await?)
    }
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
        .map(|f| ComplianceIssue {
            issue: f.issue,
            cluster_id: f.cluster_id,
        })
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

/// Cluster, compliance and audit queries.
#[derive(Default)]
pub struct ClustersQuery;

#[Object]
impl ClustersQuery {
    /// One cluster; null when there is none. `FORBIDDEN` when the caller may read none of
    /// its members.
    async fn cluster(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cluster's id.")] id: ID,
    ) -> async_graphql::Result<Option<Cluster>> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&id, "id")?;
        Ok(clusters::cluster(&rc.db.conn, &rc.principal, id)
            .await?
            .map(Cluster))
    }

    /// Clusters with at least one member the caller may read that matches `filter`, by id.
    #[graphql(complexity = "first.unwrap_or(50).clamp(1, 250) as usize * child_complexity + 1")]
    async fn clusters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only clusters with a member school matching this.")] filter: Option<
            SchoolFilter,
        >,
        #[graphql(desc = "Page size, 1 to 250 (default 50).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<ClusterConnection> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let has_prev = after.is_some();
        let page = page(first, after, |c| c.strip_prefix("c:")?.parse::<i64>().ok())?;
        let q = filter.unwrap_or_default().into_query("filter")?;
        let paged = clusters::clusters(&rc.db.conn, &rc.principal, &q, page).await?;
        Ok(connection(paged, has_prev, |c| (format!("c:{}", c.id), Cluster(c))).into())
    }

    /// Every compliance issue, school checks and cluster checks, across the schools the
    /// caller may read that match `filter`: most severe first, then by school (cluster-wide
    /// issues first), code and cluster.
    #[graphql(complexity = "first.unwrap_or(50).clamp(1, 250) as usize * child_complexity + 1")]
    async fn compliance_issues(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only issues of schools matching this.")] filter: Option<SchoolFilter>,
        #[graphql(desc = "The date to check on; today in Europe/London when omitted.")]
        as_of: Option<Date>,
        #[graphql(desc = "Only these severities; all when omitted.")] severities: Option<
            Vec<Severity>,
        >,
        #[graphql(desc = "Page size, 1 to 250 (default 50).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<ComplianceIssueConnection> {
        let rc = rc(ctx)?;
        let has_prev = after.is_some();
        let page = page(first, after, decode_issue_cursor)?;
        let q = filter.unwrap_or_default().into_query("filter")?;
        q.check_covered(&rc.principal)?;
        let cond = sea_orm::Condition::all()
            .add(scope::readable_schools(&rc.principal)?)
            .add(q.condition());
        let as_of = as_of.map_or_else(today, |d| d.0);
        let severities: Option<Vec<crate::domain::compliance::Severity>> =
            severities.map(|v| v.into_iter().map(Into::into).collect());
        let all = compliance::issues(
            &rc.db.conn,
            cond,
            as_of,
            &rc.config.cluster_thresholds,
            severities.as_deref(),
        )
        .await?;
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
        Ok(connection(paged, has_prev, |f| {
            let (r, u, c, id) = f.sort_key();
            (
                format!("i:{r}:{u}:{c}:{id}"),
                ComplianceIssue {
                    issue: f.issue,
                    cluster_id: f.cluster_id,
                },
            )
        })
        .into())
    }

    /// The changes made to one school's records, newest first; for callers who may read
    /// the school.
    #[graphql(complexity = "first.unwrap_or(50).clamp(1, 250) as usize * child_complexity + 1")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The school's URN.")] school_urn: i32,
        #[graphql(desc = "Page size, 1 to 250 (default 50).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<AuditEventConnection> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let has_prev = after.is_some();
        let page = page(first, after, |c| c.strip_prefix("a:")?.parse::<i64>().ok())?;
        let paged = audit::for_school(&rc.db.conn, &rc.principal, school_urn, page).await?;
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

/// A new shared-SENCO cluster.
#[derive(InputObject)]
pub struct CreateClusterInput {
    /// Its name (1 to 200 characters after trimming).
    pub name: String,
    /// The shared SENCO (a person already recorded).
    pub senco_person_id: ID,
    /// Two or more member schools, none twice.
    pub member_urns: Vec<i32>,
    /// When the arrangement began.
    pub started_on: Date,
    /// When it was last reviewed, if ever.
    pub last_reviewed_on: Option<Date>,
    /// Months between reviews, 1 to 60 (default 12).
    pub review_interval_months: Option<i32>,
}

/// Changes to a cluster; an absent field is left unchanged.
#[derive(InputObject)]
pub struct UpdateClusterInput {
    /// The cluster.
    pub cluster_id: ID,
    /// A new name.
    pub name: Option<String>,
    /// A new shared SENCO.
    pub senco_person_id: Option<ID>,
    /// The whole new member list.
    pub member_urns: Option<Vec<i32>>,
    /// A new start date.
    pub started_on: Option<Date>,
    /// A new last-review date; null clears it.
    pub last_reviewed_on: MaybeUndefined<Date>,
    /// A new review interval, 1 to 60 months.
    pub review_interval_months: Option<i32>,
    /// When the arrangement ended; null reopens it.
    pub ended_on: MaybeUndefined<Date>,
}

/// A review of a cluster's arrangement.
#[derive(InputObject)]
pub struct RecordClusterReviewInput {
    /// The cluster.
    pub cluster_id: ID,
    /// The day of the review (not in the future).
    pub reviewed_on: Date,
}

fn cluster_name(name: &str) -> ApiResult<String> {
    validation::trimmed_name(name, 200).map_err(|m| ApiError::bad_input("input.name", m))
}

fn maybe(v: MaybeUndefined<Date>) -> Option<Option<NaiveDate>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(d) => Some(Some(d.0)),
    }
}

/// Cluster mutations: LA or trust writers covering every member, or admin.
#[derive(Default)]
pub struct ClustersMutation;

#[Object]
impl ClustersMutation {
    /// Records a shared-SENCO arrangement.
    async fn create_cluster(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cluster.")] input: CreateClusterInput,
    ) -> async_graphql::Result<Cluster> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let new = clusters::NewCluster {
            name: cluster_name(&input.name)?,
            senco_person_id: parse_id(&input.senco_person_id, "input.sencoPersonId")?,
            member_urns: input.member_urns,
            started_on: input.started_on.0,
            last_reviewed_on: input.last_reviewed_on.map(|d| d.0),
            review_interval_months: input.review_interval_months.unwrap_or(12),
        };
        Ok(Cluster(
            service::clusters::create(&rc.db, &rc.principal, new, today())
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }

    /// Changes a cluster's details or members.
    async fn update_cluster(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateClusterInput,
    ) -> async_graphql::Result<Cluster> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.cluster_id, "input.clusterId")?;
        let patch = clusters::ClusterPatch {
            name: input.name.as_deref().map(cluster_name).transpose()?,
            senco_person_id: input
                .senco_person_id
                .as_ref()
                .map(|p| parse_id(p, "input.sencoPersonId"))
                .transpose()?,
            member_urns: input.member_urns,
            started_on: input.started_on.map(|d| d.0),
            last_reviewed_on: maybe(input.last_reviewed_on),
            review_interval_months: input.review_interval_months,
            ended_on: maybe(input.ended_on),
        };
        Ok(Cluster(
            service::clusters::update(&rc.db, &rc.principal, id, patch, today())
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }

    /// Records that the arrangement was reviewed.
    async fn record_cluster_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The review.")] input: RecordClusterReviewInput,
    ) -> async_graphql::Result<Cluster> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.cluster_id, "input.clusterId")?;
        Ok(Cluster(
            service::clusters::record_review(
                &rc.db,
                &rc.principal,
                id,
                input.reviewed_on.0,
                today(),
            )
            .await
            .map_err(|e| e.within("input"))?,
        ))
    }
}
