//! Shared-SENCO clusters, compliance issues and the audit log over GraphQL (SPEC 4.6, 4.7
//! and 5).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::NaiveDate;
use entity::cluster;

use crate::domain::clusters::{cluster_issues, next_review_due};
use crate::domain::compliance::{FoundIssue, Issue};
use crate::domain::school::Urn;
use crate::domain::validation;
use crate::error::{ApiError, ApiResult};
use crate::graphql::compliance::ComplianceIssue;
use crate::graphql::schools::{School, SchoolFilter};
use crate::graphql::sencos::Person;
use crate::graphql::{Date, connection, connection_type, loaders, page, parse_id, rc, today};
use crate::service;
use crate::store::{clusters, scope};

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
        out.push(FoundIssue { issue, cluster_id }.into());
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

/// Cluster queries.
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
    async fn clusters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only clusters with a member school matching this.")] filter: Option<
            SchoolFilter,
        >,
        #[graphql(desc = "Page size, 0 to 250 (default 50); 0 gives only the total.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<ClusterConnection> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let has_prev = after.as_deref().is_some_and(|a| !a.is_empty());
        let page = page(first, after, |c| c.strip_prefix("c:")?.parse::<i64>().ok())?;
        let q = filter.unwrap_or_default().into_query("filter")?;
        let paged = clusters::clusters(&rc.db.conn, &rc.principal, &q, page).await?;
        Ok(connection(paged, has_prev, |c| (format!("c:{}", c.id), Cluster(c))).into())
    }
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
            member_urns: input.member_urns.into_iter().map(Urn).collect(),
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
            member_urns: input.member_urns.map(|v| v.into_iter().map(Urn).collect()),
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
