//! Reference data over GraphQL: the viewer, LAs, trusts and schools (SPEC 4.1 and 5).

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use entity::{local_authority, school, school_census, trust};

use crate::domain::school::{self as reference, LaCode, TrustUid, Urn};
use crate::domain::validation;
use crate::error::{ApiError, ApiResult};
use crate::graphql::{Date, connection, connection_type, loaders, page, parse_id, rc};
use crate::service;
use crate::store::{self, schools::SchoolQuery};

/// The phase of education a school provides (GIAS `PhaseOfEducation`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::school::Phase")]
pub enum Phase {
    /// Nursery.
    Nursery,
    /// Primary.
    Primary,
    /// Middle (deemed primary or secondary).
    Middle,
    /// Secondary.
    Secondary,
    /// All-through.
    AllThrough,
    /// 16 plus.
    SixteenPlus,
    /// Not applicable (special schools, PRUs and the like).
    NotApplicable,
}

/// What kind of establishment a school is; decides whether the SENCO regulations bind it.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::school::SchoolKind")]
pub enum SchoolKind {
    /// A mainstream school (maintained, academy or free school): a relevant school.
    Mainstream,
    /// A maintained nursery school: a relevant school.
    MaintainedNursery,
    /// A special school.
    Special,
    /// Alternative provision (pupil referral units and AP academies).
    AlternativeProvision,
    /// An independent school.
    Independent,
    /// Anything else (colleges, secure units, establishments outside England ...).
    Other,
}

/// A stored name read back as its domain value; an unknown one is an internal error.
fn stored<T>(parse: impl Fn(&str) -> Option<T>, what: &str, s: &str) -> ApiResult<T> {
    parse(s).ok_or_else(|| ApiError::internal(format!("stored {what} value `{s}` is unknown")))
}

/// The caller, as the server understood its token.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The token's `sub`; null for an anonymous request.
    sub: Option<String>,
    /// The scope words the server recognised, in a stable order; unknown words are left out.
    scopes: Vec<String>,
}

/// A local authority.
#[derive(SimpleObject)]
pub struct LocalAuthority {
    /// The DfE three-digit LA code.
    code: i32,
    /// The LA's name.
    name: String,
}

impl From<local_authority::Model> for LocalAuthority {
    fn from(m: local_authority::Model) -> Self {
        Self {
            code: m.code,
            name: m.name,
        }
    }
}

/// An academy trust (a GIAS group).
#[derive(SimpleObject)]
pub struct Trust {
    /// The GIAS group UID.
    uid: i32,
    /// The trust's name.
    name: String,
}

impl From<trust::Model> for Trust {
    fn from(m: trust::Model) -> Self {
        Self {
            uid: m.uid,
            name: m.name,
        }
    }
}

/// The school census figures the DfE published for a school.
#[derive(SimpleObject)]
pub struct SchoolCensus {
    /// The census day the figures describe.
    collected_on: Date,
    /// Pupils on roll; null when the census withheld it.
    number_on_roll: Option<i32>,
    /// Pupils with an EHC plan (census code E); null when withheld.
    ehcp: Option<i32>,
    /// Pupils on SEN support (census code K); null when withheld.
    sen_support: Option<i32>,
}

impl From<school_census::Model> for SchoolCensus {
    fn from(m: school_census::Model) -> Self {
        Self {
            collected_on: Date(m.collected_on),
            number_on_roll: m.number_on_roll,
            ehcp: m.ehcp,
            sen_support: m.sen_support,
        }
    }
}

/// A school. Only schools the caller may read are ever returned.
pub struct School(pub school::Model);

connection_type!(SchoolConnection, SchoolEdge, School, "schools");

/// A school. Only schools the caller may read are ever returned.
#[Object]
impl School {
    /// The six-digit unique reference number.
    async fn urn(&self) -> i32 {
        self.0.urn
    }
    /// The school's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The LA the school belongs to.
    async fn local_authority(&self, ctx: &Context<'_>) -> async_graphql::Result<LocalAuthority> {
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.las, self.0.la_code)
            .await?
            .map(LocalAuthority::from)
            .ok_or_else(|| ApiError::internal(format!("LA {} missing", self.0.la_code)))?)
    }
    /// The trust the school belongs to; null when it is in none.
    async fn trust(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Trust>> {
        let Some(uid) = self.0.trust_uid else {
            return Ok(None);
        };
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.trusts, uid).await?.map(Trust::from))
    }
    /// The school's phase of education.
    async fn phase(&self) -> async_graphql::Result<Phase> {
        Ok(stored(reference::Phase::parse, "Phase", &self.0.phase)?.into())
    }
    /// The kind of establishment.
    async fn kind(&self) -> async_graphql::Result<SchoolKind> {
        Ok(stored(reference::SchoolKind::parse, "SchoolKind", &self.0.kind)?.into())
    }
    /// Whether the school is an academy or free school.
    async fn is_academy(&self) -> bool {
        self.0.is_academy
    }
    /// Whether the SENCO regulations bind the school (mainstream or maintained nursery).
    async fn is_relevant_school(&self) -> bool {
        crate::domain::is_relevant_kind(&self.0.kind)
    }
    /// Pupils on roll as last recorded; null when unknown.
    async fn number_on_roll(&self) -> Option<i32> {
        self.0.number_on_roll
    }
    /// The URN of the school this one replaced (an academy's predecessor); null when none.
    async fn predecessor_urn(&self) -> Option<i32> {
        self.0.predecessor_urn
    }
    /// The school this one replaced, such as the maintained school an academy converted
    /// from; null when there is none or it is not loaded. Reachable by anyone who may read
    /// this school, so an academy's SENCO appointments and reports from before conversion
    /// stay with it.
    async fn predecessor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<School>> {
        let Some(urn) = self.0.predecessor_urn else {
            return Ok(None);
        };
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.schools, urn).await?.map(School))
    }
    /// The school that replaced this one (for example the academy it became); null when
    /// there is none the caller may read. With several, the highest URN.
    async fn successor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<School>> {
        let rc = super::rc(ctx)?;
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.successors, self.0.urn)
            .await?
            .unwrap_or_default()
            .into_iter()
            .find(|s| crate::store::scope::can_read(&rc.principal, s))
            .map(School))
    }
    /// The date the school closed; null while open.
    async fn closed_on(&self) -> Option<Date> {
        self.0.closed_on.map(Date)
    }
    /// The school's SENCO appointments, oldest first; with `currentOn`, only those current
    /// on that date (started on or before it, not ended before it).
    async fn senco_appointments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only appointments current on this date.")] current_on: Option<Date>,
    ) -> async_graphql::Result<Vec<crate::graphql::sencos::SencoAppointment>> {
        let l = super::loaders(ctx)?;
        let all = loaders::one(&l.appointments_by_school, self.0.urn)
            .await?
            .unwrap_or_default();
        Ok(all
            .into_iter()
            .filter(|a| {
                current_on.is_none_or(|d| {
                    crate::domain::qualification::is_current_on(a.started_on, a.ended_on, d.0)
                })
            })
            .map(crate::graphql::sencos::SencoAppointment)
            .collect())
    }
    /// What needs attention at the school as of `asOf` (SPEC 4.7), with the member-level
    /// checks of the shared-SENCO clusters it belongs to (SPEC 4.6), most severe first.
    async fn compliance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The date to check on; today in Europe/London when omitted.")]
        as_of: Option<Date>,
    ) -> async_graphql::Result<Vec<crate::graphql::compliance::ComplianceIssue>> {
        let as_of = as_of.map_or_else(super::today, |d| d.0);
        Ok(crate::graphql::compliance::school_compliance(ctx, self.0.urn, as_of).await?)
    }
    /// The latest version of each of the school's termly reports, newest term first.
    async fn termly_reports(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::reports::TermlyReport>> {
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.latest_reports, self.0.urn)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(crate::graphql::reports::TermlyReport)
            .collect())
    }
    /// The school's SENCO-governor meetings, newest first (SPEC 4.10). Their text fields
    /// are null for a reader who reaches the school only through an LA scope.
    async fn governor_meetings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 250 (default 50); 0 gives only the total.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<crate::graphql::governance::GovernorMeetingConnection> {
        Ok(crate::graphql::governance::school_meetings(ctx, &self.0, first, after).await?)
    }
    /// The actions agreed with the governing body, at meetings and in the SEN action plan,
    /// by due date (SPEC 4.10). Their text fields are null for a reader who reaches the
    /// school only through an LA scope.
    async fn governance_actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only actions with this status.")] status: Option<
            crate::graphql::governance::ActionStatus,
        >,
        #[graphql(desc = "Only actions overdue on this day: open, and due before it.")]
        overdue_on: Option<Date>,
    ) -> async_graphql::Result<Vec<crate::graphql::governance::GovernanceAction>> {
        Ok(crate::graphql::governance::school_actions(ctx, &self.0, status, overdue_on).await?)
    }
    /// The governing body's sign-offs of the school's documents, newest first (SPEC 4.10).
    async fn sign_offs(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::governance::SignOff>> {
        Ok(crate::graphql::governance::school_sign_offs(ctx, self.0.urn).await?)
    }
    /// The school's termly figures over the last `terms` terms up to the latest that has
    /// ended, oldest first, each with the change on the term before and on the same term a
    /// year before (SPEC 4.10).
    async fn track_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many terms, 1 to 30.", default = 6)] terms: i32,
    ) -> async_graphql::Result<Vec<crate::graphql::governance::TermFigures>> {
        Ok(crate::graphql::governance::school_track_record(ctx, self.0.urn, terms).await?)
    }
    /// The latest DfE census figures for the school; null when none was imported.
    async fn census(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SchoolCensus>> {
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.census, self.0.urn)
            .await?
            .map(SchoolCensus::from))
    }
}

/// Narrows a list of schools; every field given must match.
#[derive(InputObject, Default, Clone)]
pub struct SchoolFilter {
    /// Only schools of this LA.
    pub la_code: Option<i32>,
    /// Only schools of this trust.
    pub trust_uid: Option<i32>,
    /// Only these URNs (at most 1000).
    pub urns: Option<Vec<i32>>,
    /// Only members of this cluster.
    pub cluster_id: Option<async_graphql::ID>,
    /// Only these phases.
    pub phases: Option<Vec<Phase>>,
    /// Only these kinds.
    pub kinds: Option<Vec<SchoolKind>>,
    /// Only schools whose name contains this text, ignoring case.
    pub name_contains: Option<String>,
}

impl SchoolFilter {
    /// Validates the filter into the store's form.
    pub fn into_query(self, field: &str) -> ApiResult<SchoolQuery> {
        if let Some(urns) = &self.urns
            && urns.len() > 1000
        {
            return Err(ApiError::bad_input(
                format!("{field}.urns"),
                "at most 1000 URNs",
            ));
        }
        let name_contains = name_filter(self.name_contains, &format!("{field}.nameContains"))?;
        Ok(SchoolQuery {
            la_code: self.la_code.map(LaCode),
            trust_uid: self.trust_uid.map(TrustUid),
            urns: self.urns.map(|v| v.into_iter().map(Urn).collect()),
            cluster_id: self
                .cluster_id
                .as_ref()
                .map(|id| parse_id(id, &format!("{field}.clusterId")))
                .transpose()?,
            phases: self.phases.map(|v| v.into_iter().map(Into::into).collect()),
            kinds: self.kinds.map(|v| v.into_iter().map(Into::into).collect()),
            name_contains,
        })
    }
}

/// A "name contains" filter checked as free text of at most 200 characters, trimmed; `None`
/// when absent or blank.
pub fn name_filter(text: Option<String>, field: &str) -> ApiResult<Option<String>> {
    let Some(t) = text else { return Ok(None) };
    validation::free_text(&t, 200).map_err(|m| ApiError::bad_input(field, m))?;
    Ok(Some(t.trim().to_string()).filter(|t| !t.is_empty()))
}

/// Creates or renames a local authority.
#[derive(InputObject)]
pub struct LocalAuthorityInput {
    /// The DfE three-digit LA code.
    pub code: i32,
    /// The LA's name.
    pub name: String,
}

/// Creates or renames a trust.
#[derive(InputObject)]
pub struct TrustInput {
    /// The GIAS group UID (a positive number).
    pub uid: i32,
    /// The trust's name.
    pub name: String,
}

/// Creates or replaces a school. Every field is written; omitted optional fields are cleared.
#[derive(InputObject)]
pub struct SchoolInput {
    /// The six-digit URN.
    pub urn: i32,
    /// The school's name.
    pub name: String,
    /// Its LA (must exist).
    pub la_code: i32,
    /// Its trust (must exist); null for none.
    pub trust_uid: Option<i32>,
    /// Phase of education.
    pub phase: Phase,
    /// Kind of establishment.
    pub kind: SchoolKind,
    /// Whether it is an academy or free school.
    pub is_academy: bool,
    /// Pupils on roll; null when unknown.
    pub number_on_roll: Option<i32>,
    /// The URN of the school it replaced, if any.
    pub predecessor_urn: Option<i32>,
    /// The date it closed, if it has.
    pub closed_on: Option<Date>,
}

fn field_err(field: &str) -> impl Fn(String) -> ApiError + '_ {
    move |m| ApiError::bad_input(field, m)
}

/// Reference-data queries.
#[derive(Default)]
pub struct SchoolsQuery;

/// Reference-data queries.
#[Object]
impl SchoolsQuery {
    /// The caller: its `sub` and recognised scopes. The one field anonymous callers may read.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        let p = &rc(ctx)?.principal;
        Ok(Viewer {
            sub: p.sub.clone(),
            scopes: p.scopes.iter().map(ToString::to_string).collect(),
        })
    }

    /// The LAs in which the caller may read any school, by code.
    async fn local_authorities(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<LocalAuthority>> {
        let rc = rc(ctx)?;
        Ok(
            store::schools::local_authorities(&rc.db.conn, &rc.principal)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        )
    }

    /// One school by URN; null when no school has it, `FORBIDDEN` when the caller may not
    /// read it (URNs are public, so existence is no secret).
    async fn school(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The six-digit URN.")] urn: i32,
    ) -> async_graphql::Result<Option<School>> {
        let rc = rc(ctx)?;
        Ok(store::schools::school(&rc.db.conn, &rc.principal, Urn(urn))
            .await?
            .map(School))
    }

    /// The schools the caller may read, by URN, a page at a time.
    async fn schools(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Narrows the list; every field given must match.")] filter: Option<
            SchoolFilter,
        >,
        #[graphql(desc = "Page size, 0 to 250 (default 50); 0 gives only the total.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<SchoolConnection> {
        let rc = rc(ctx)?;
        let has_prev = after.as_deref().is_some_and(|a| !a.is_empty());
        let page = page(first, after, |c| c.strip_prefix("s:")?.parse().ok())?;
        let filter = filter.unwrap_or_default().into_query("filter")?;
        let paged = store::schools::schools(&rc.db.conn, &rc.principal, &filter, page).await?;
        prime(ctx, &paged.rows).await?;
        Ok(connection(paged, has_prev, |s| (format!("s:{}", s.urn), School(s))).into())
    }
}

/// Reference-data mutations (admin only).
#[derive(Default)]
pub struct SchoolsMutation;

/// Reference-data mutations (admin only).
#[Object]
impl SchoolsMutation {
    /// Creates or renames a local authority. Needs `admin`.
    async fn upsert_local_authority(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record to write.")] input: LocalAuthorityInput,
    ) -> async_graphql::Result<LocalAuthority> {
        let rc = rc(ctx)?;
        store::scope::require_admin(&rc.principal)?;
        validation::la_code(input.code).map_err(field_err("input.code"))?;
        let name = validation::trimmed_name(&input.name, 200).map_err(field_err("input.name"))?;
        let out = service::schools::upsert_local_authority(
            &rc.db,
            &rc.principal,
            local_authority::Model {
                code: input.code,
                name,
            },
        )
        .await
        .map_err(|e| e.within("input"))?;
        Ok(out.into())
    }

    /// Creates or renames a trust. Needs `admin`.
    async fn upsert_trust(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record to write.")] input: TrustInput,
    ) -> async_graphql::Result<Trust> {
        let rc = rc(ctx)?;
        store::scope::require_admin(&rc.principal)?;
        if input.uid <= 0 {
            return Err(ApiError::bad_input("input.uid", "must be a positive number").into());
        }
        let name = validation::trimmed_name(&input.name, 200).map_err(field_err("input.name"))?;
        let out = service::schools::upsert_trust(
            &rc.db,
            &rc.principal,
            trust::Model {
                uid: input.uid,
                name,
            },
        )
        .await
        .map_err(|e| e.within("input"))?;
        Ok(out.into())
    }

    /// Creates or replaces a school. Needs `admin`.
    async fn upsert_school(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record to write.")] input: SchoolInput,
    ) -> async_graphql::Result<School> {
        let rc = rc(ctx)?;
        store::scope::require_admin(&rc.principal)?;
        validation::urn(input.urn).map_err(field_err("input.urn"))?;
        validation::la_code(input.la_code).map_err(field_err("input.laCode"))?;
        let name = validation::trimmed_name(&input.name, 200).map_err(field_err("input.name"))?;
        if input.trust_uid.is_some_and(|t| t <= 0) {
            return Err(ApiError::bad_input("input.trustUid", "must be a positive number").into());
        }
        if input
            .number_on_roll
            .is_some_and(|n| !(0..=10_000).contains(&n))
        {
            return Err(
                ApiError::bad_input("input.numberOnRoll", "must be between 0 and 10000").into(),
            );
        }
        if let Some(p) = input.predecessor_urn {
            validation::urn(p).map_err(field_err("input.predecessorUrn"))?;
        }
        if input.closed_on.is_some_and(|d| d.0 > super::today()) {
            return Err(ApiError::bad_input("input.closedOn", "must not be in the future").into());
        }
        let out = service::schools::upsert_school(
            &rc.db,
            &rc.principal,
            school::Model {
                urn: input.urn,
                name,
                la_code: input.la_code,
                trust_uid: input.trust_uid,
                phase: reference::Phase::from(input.phase).to_string(),
                kind: reference::SchoolKind::from(input.kind).to_string(),
                is_academy: input.is_academy,
                number_on_roll: input.number_on_roll,
                predecessor_urn: input.predecessor_urn,
                closed_on: input.closed_on.map(|d| d.0),
            },
        )
        .await
        .map_err(|e| e.within("input"))?;
        Ok(School(out))
    }
}

/// Loads, one batch per level, what the selection under `edges.node` will ask of these
/// schools, so that the nested resolvers find it in the loaders' cache: the statements a
/// dashboard query runs then depend on its shape alone, not on the number of rows or on
/// how the resolvers happen to interleave.
async fn prime(ctx: &Context<'_>, rows: &[school::Model]) -> ApiResult<()> {
    use std::collections::BTreeSet;
    let node = ctx.look_ahead().field("edges").field("node");
    if rows.is_empty() || !node.exists() {
        return Ok(());
    }
    let l = super::loaders(ctx)?;
    let urns: Vec<i32> = rows.iter().map(|s| s.urn).collect();
    if node.field("localAuthority").exists() {
        let codes: BTreeSet<i32> = rows.iter().map(|s| s.la_code).collect();
        loaders::many(&l.las, codes).await?;
    }
    if node.field("trust").exists() {
        let uids: BTreeSet<i32> = rows.iter().filter_map(|s| s.trust_uid).collect();
        loaders::many(&l.trusts, uids).await?;
    }
    if node.field("census").exists() {
        loaders::many(&l.census, urns.iter().copied()).await?;
    }
    if node.field("termlyReports").exists() {
        loaders::many(&l.latest_reports, urns.iter().copied()).await?;
    }
    prime_governance(ctx, &node, &urns).await?;
    if node.field("compliance").exists() {
        let today = super::today();
        loaders::many(&l.school_facts, urns.iter().map(|u| (*u, today))).await?;
        loaders::many(&l.clusters_of_school, urns.iter().copied()).await?;
    }
    let sa = node.field("sencoAppointments");
    if sa.exists() {
        let appts = loaders::many(&l.appointments_by_school, urns.iter().copied()).await?;
        let all: Vec<&entity::senco_appointment::Model> = appts.values().flatten().collect();
        let people: BTreeSet<i64> = all.iter().map(|a| a.person_id).collect();
        let person = sa.field("person");
        if person.exists() {
            loaders::many(&l.people, people.iter().copied()).await?;
            if person.field("qualifications").exists() {
                loaders::many(&l.qualifications, people.iter().copied()).await?;
            }
            if person.field("priorService").exists() {
                loaders::many(&l.prior_service, people.iter().copied()).await?;
            }
            if person.field("evidenceChecks").exists() {
                loaders::many(&l.evidence_checks, people.iter().copied()).await?;
            }
        }
        if sa.field("qualification").exists() {
            let today = super::today();
            loaders::many(&l.deadlines, all.iter().map(|a| (a.id, today))).await?;
        }
    }
    Ok(())
}

/// [`prime`] for the governance fields of a page of schools (SPEC 4.10): one batch each,
/// and one per distinct `trackRecord(terms:)` asked.
async fn prime_governance(
    ctx: &Context<'_>,
    node: &async_graphql::Lookahead<'_>,
    urns: &[i32],
) -> ApiResult<()> {
    let l = super::loaders(ctx)?;
    let keys = || urns.iter().copied();
    let meetings = node.field("governorMeetings");
    let actions = node.field("governanceActions");
    if actions.exists() || meetings.exists() {
        loaders::many(&l.governance_actions, keys()).await?;
        loaders::many(&l.governor_meetings, keys()).await?;
    }
    if node.field("signOffs").exists() || node.field("termlyReports").field("signOffs").exists() {
        loaders::many(&l.sign_offs, keys()).await?;
    }
    for field in node.field("trackRecord").selection_fields() {
        let terms = field
            .arguments()
            .map_err(|e| ApiError::internal(e.message))?
            .into_iter()
            .find(|(name, _)| name.as_str() == "terms")
            .and_then(|(_, v)| match v {
                async_graphql::Value::Number(n) => n.as_i64().and_then(|t| i32::try_from(t).ok()),
                _ => None,
            })
            .unwrap_or(6);
        if let Ok(terms) = crate::graphql::governance::track_terms(terms) {
            loaders::many(&l.track_records, keys().map(|u| (u, terms))).await?;
        }
    }
    Ok(())
}
