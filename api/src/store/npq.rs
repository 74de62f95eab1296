//! The NPQ for SENCOs cohort calendar (SPEC 4.8): policy data kept by administrators, read
//! whole (a handful of rows) by every projection.

use chrono::NaiveDate;
use entity::npq_cohort;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryOrder};

use crate::auth::Principal;
use crate::domain::projection::{NpqCohort, illustrative_calendar};
use crate::error::{ApiError, ApiResult};
use crate::store::{audit, scope};

fn cohort_of(m: npq_cohort::Model) -> ApiResult<NpqCohort> {
    Ok(NpqCohort {
        starts_on: m.starts_on,
        registration_closes_on: m.registration_closes_on,
        expected_outcome_months: u32::try_from(m.expected_outcome_months)
            .map_err(|_| ApiError::internal("stored outcome months"))?,
    })
}

fn row_of(c: &NpqCohort) -> npq_cohort::Model {
    npq_cohort::Model {
        starts_on: c.starts_on,
        registration_closes_on: c.registration_closes_on,
        expected_outcome_months: i32::try_from(c.expected_outcome_months).unwrap_or(i32::MAX),
    }
}

/// The whole calendar, earliest start first, as one statement. Policy data, readable by
/// anyone signed in.
pub async fn calendar<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<NpqCohort>> {
    npq_cohort::Entity::find()
        .order_by_asc(npq_cohort::Column::StartsOn)
        .all(db)
        .await?
        .into_iter()
        .map(cohort_of)
        .collect()
}

/// Creates the cohort starting on `c.starts_on`, or replaces it (admin; the caller has
/// checked it with `domain::projection::check_cohort`).
pub async fn upsert<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    c: NpqCohort,
) -> ApiResult<NpqCohort> {
    scope::require_admin(p)?;
    let after = row_of(&c);
    let before = npq_cohort::Entity::find_by_id(c.starts_on).one(db).await?;
    match &before {
        Some(old) if *old == after => return Ok(c),
        Some(_) => {
            after
                .clone()
                .into_active_model()
                .reset_all()
                .update(db)
                .await?;
        }
        None => {
            after.clone().into_active_model().insert(db).await?;
        }
    }
    log.changed(
        "npq_cohort",
        c.starts_on,
        &[],
        before.as_ref(),
        Some(&after),
    )?;
    Ok(c)
}

/// Deletes the cohort starting on `starts_on` (admin); whether there was one.
pub async fn delete<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    starts_on: NaiveDate,
) -> ApiResult<bool> {
    scope::require_admin(p)?;
    let Some(before) = npq_cohort::Entity::find_by_id(starts_on).one(db).await? else {
        return Ok(false);
    };
    npq_cohort::Entity::delete_by_id(starts_on).exec(db).await?;
    log.changed(
        "npq_cohort",
        starts_on,
        &[],
        Some(&before),
        None::<&npq_cohort::Model>,
    )?;
    Ok(true)
}

/// Writes the illustrative calendar of SPEC 4.8 (`domain::projection::illustrative_calendar`)
/// into an empty calendar table. Called once, in the transaction that creates the table
/// (`Db::migrate`), so an administrator who later deletes every cohort is not given them back.
pub async fn seed_illustrative<C: ConnectionTrait>(db: &C) -> ApiResult<()> {
    let rows: Vec<npq_cohort::ActiveModel> = illustrative_calendar()
        .iter()
        .map(|c| row_of(c).into_active_model())
        .collect();
    npq_cohort::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}
