//! The NPQ for SENCOs cohort calendar and the qualification projection over GraphQL
//! (SPEC 4.8).

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use crate::domain::projection as rules;
use crate::error::ApiError;
use crate::graphql::{Date, rc};
use crate::service;

/// Whether the SENCO will hold the mandatory qualification by the deadline (SPEC 4.8).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::projection::Projection")]
pub enum QualificationProjection {
    /// A course under way finishes by the deadline, or two or more NPQ cohorts still open
    /// for registration do.
    OnTrack,
    /// Nothing under way finishes in time and exactly one open cohort does: the SENCO must
    /// register by `mustRegisterBy`.
    AtRisk,
    /// Nothing can finish by the deadline and the calendar has a later cohort: the SENCO
    /// will be overdue until `projectedQualifiedOn`.
    CannotMeet,
    /// Nothing under way finishes in time and the calendar has no cohort after the date
    /// asked about: add the next cohorts to the calendar.
    Unknown,
    /// As the status: holds a qualification that counts.
    Qualified,
    /// As the status: the deadline has passed.
    Overdue,
    /// As the status: the duty does not apply.
    Exempt,
}

/// One annual cohort of the NPQ for SENCOs, as the administrators keep the calendar.
pub struct NpqCohort(pub rules::NpqCohort);

/// One annual cohort of the NPQ for SENCOs, as the administrators keep the calendar.
#[Object]
impl NpqCohort {
    /// The day the cohort starts; the calendar's key.
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }
    /// The last day a SENCO may register for the cohort.
    async fn registration_closes_on(&self) -> Date {
        Date(self.0.registration_closes_on)
    }
    /// Months from the start to the expected award (the outcome).
    async fn expected_outcome_months(&self) -> u32 {
        self.0.expected_outcome_months
    }
    /// The start plus the outcome months: when the cohort's SENCOs are expected to qualify.
    async fn expected_outcome_on(&self) -> Date {
        Date(self.0.expected_outcome_on())
    }
}

/// How many appointments stand at one projection.
#[derive(SimpleObject, Clone)]
pub struct ProjectionCount {
    /// The projection.
    pub projection: QualificationProjection,
    /// How many.
    pub count: u64,
}

/// A cohort of the calendar, created or replaced by its start day.
#[derive(InputObject)]
pub struct NpqCohortInput {
    /// The day the cohort starts (from 1 September 2024, before 2100); a cohort already
    /// starting that day is replaced.
    pub starts_on: Date,
    /// The last day to register: on or before `startsOn`, at most 24 months before it.
    pub registration_closes_on: Date,
    /// Months from the start to the expected award, 1 to 60.
    pub expected_outcome_months: i32,
}

/// Calendar queries.
#[derive(Default)]
pub struct NpqQuery;

/// Calendar queries.
#[Object]
impl NpqQuery {
    /// The NPQ for SENCOs cohort calendar the projections use, earliest start first; empty
    /// when the administrators have deleted every cohort. A new database starts with an
    /// ILLUSTRATIVE calendar (a cohort each 1 November from 2025 to 2030, registration
    /// closing 1 October, the outcome 22 months after the start), not the DfE's published
    /// dates: administrators replace it with `upsertNpqCohort` and `deleteNpqCohort`.
    async fn npq_cohorts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<NpqCohort>> {
        let rc = rc(ctx)?;
        Ok(service::npq::calendar(&rc.db, &rc.principal)
            .await?
            .into_iter()
            .map(NpqCohort)
            .collect())
    }
}

/// Calendar mutations (admin).
#[derive(Default)]
pub struct NpqMutation;

/// Calendar mutations (admin).
#[Object]
impl NpqMutation {
    /// Creates the cohort starting on `input.startsOn`, or replaces it (admin). Projections
    /// use the new calendar from the next read.
    async fn upsert_npq_cohort(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cohort.")] input: NpqCohortInput,
    ) -> async_graphql::Result<NpqCohort> {
        let rc = rc(ctx)?;
        crate::store::scope::require_admin(&rc.principal)?;
        let months = u32::try_from(input.expected_outcome_months).map_err(|_| {
            ApiError::bad_input("input.expectedOutcomeMonths", "must be from 1 to 60 months")
        })?;
        let c = rules::NpqCohort {
            starts_on: input.starts_on.0,
            registration_closes_on: input.registration_closes_on.0,
            expected_outcome_months: months,
        };
        Ok(NpqCohort(
            service::npq::upsert(&rc.db, &rc.principal, c)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }

    /// Deletes the cohort starting on `startsOn` (admin); true when there was one, false when
    /// the calendar had no cohort that day.
    async fn delete_npq_cohort(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The start day of the cohort to delete.")] starts_on: Date,
    ) -> async_graphql::Result<bool> {
        let rc = rc(ctx)?;
        Ok(service::npq::delete(&rc.db, &rc.principal, starts_on.0).await?)
    }
}
