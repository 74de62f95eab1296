//! Evidence checks (SPEC 4.9): recorded by those who may write a person's SENCO records,
//! read with the person, by the compliance checks, and by the DfE bulk check export.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::{evidence_check, person, school, senco_appointment};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::auth::Principal;
use crate::domain::evidence::{self as rules, CheckRecord, EvidenceItem, EvidenceSource};
use crate::error::{ApiError, ApiResult};
use crate::store::scope::{self, Reached};
use crate::store::{audit, schools::SchoolQuery, sencos};

/// A check to record, validated field by field.
#[derive(Debug, Clone)]
pub struct NewEvidenceCheck {
    /// The person checked.
    pub person_id: i64,
    /// The day of the check (not in the future).
    pub checked_on: NaiveDate,
    /// Where it looked.
    pub source: EvidenceSource,
    /// What it confirmed (checked by `domain::evidence::check_confirms`).
    pub confirms: Vec<EvidenceItem>,
    /// A note.
    pub note: Option<String>,
}

/// A stored check as the rules see it; `None` for a source the rules do not know.
pub fn record_of(m: &evidence_check::Model) -> Option<CheckRecord> {
    Some(CheckRecord {
        checked_on: m.checked_on,
        source: EvidenceSource::parse(&m.source)?,
        confirms: EvidenceItem::split(&m.confirms),
    })
}

/// Records a check, for a caller who may write the person's SENCO records.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    c: NewEvidenceCheck,
) -> ApiResult<evidence_check::Model> {
    let (_, urns) = sencos::writable_person(db, p, c.person_id, "personId").await?;
    let row = evidence_check::ActiveModel {
        person_id: Set(c.person_id),
        checked_on: Set(c.checked_on),
        source: Set(c.source.as_str().to_string()),
        confirms: Set(EvidenceItem::join(&c.confirms)),
        note: Set(c.note),
        ..Default::default()
    }
    .insert(db)
    .await?;
    log.inserted("evidence_check", row.id, &urns, &row)?;
    Ok(row)
}

/// The checks of each person, oldest first, for DataLoaders (people are reached through
/// scoped rows).
pub async fn by_person<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    ids: &[i64],
) -> ApiResult<HashMap<i64, Vec<evidence_check::Model>>> {
    let rows = evidence_check::Entity::find()
        .filter(evidence_check::Column::PersonId.is_in(ids.iter().copied()))
        .order_by_asc(evidence_check::Column::CheckedOn)
        .order_by_asc(evidence_check::Column::Id)
        .all(db)
        .await?;
    Ok(super::grouped(ids, rows, |r| r.person_id))
}

/// The checks of the people `people` selects, as the rules see them, in one statement.
pub async fn records_for<C: ConnectionTrait>(
    db: &C,
    people: SelectStatement,
) -> ApiResult<HashMap<i64, Vec<CheckRecord>>> {
    let rows = evidence_check::Entity::find()
        .filter(evidence_check::Column::PersonId.in_subquery(people))
        .all(db)
        .await?;
    let mut map: HashMap<i64, Vec<CheckRecord>> = HashMap::new();
    for r in &rows {
        if let Some(c) = record_of(r) {
            map.entry(r.person_id).or_default().push(c);
        }
    }
    Ok(map)
}

/// Page `page` (from 1) of the TRNs due a DfE teacher record check on `today` (SPEC 4.9):
/// the current SENCOs at the readable schools `q` selects who have a TRN and no check from
/// that source in the last twelve months, each person once, in TRN order, at most
/// [`rules::DFE_CHECK_FILE_ROWS`] a page. Three statements, whatever the scope.
pub async fn due_dfe_check<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    q: &SchoolQuery,
    today: NaiveDate,
    page: u32,
) -> ApiResult<Vec<String>> {
    if page == 0 {
        return Err(ApiError::bad_input("page", "must be 1 or more"));
    }
    let schools: SelectStatement = Query::select()
        .column(school::Column::Urn)
        .from(school::Entity)
        .cond_where(
            Condition::all()
                .add(scope::readable_schools(p)?)
                .add(q.condition()),
        )
        .to_owned();
    let people: SelectStatement = Query::select()
        .column(senco_appointment::Column::PersonId)
        .from(senco_appointment::Entity)
        .cond_where(
            Condition::all()
                .add(senco_appointment::Column::SchoolUrn.in_subquery(schools))
                .add(super::current_on(
                    senco_appointment::Column::StartedOn,
                    senco_appointment::Column::EndedOn,
                    today,
                )),
        )
        .to_owned();
    let trns: Vec<(i64, Option<String>)> = person::Entity::find()
        .select_only()
        .column(person::Column::Id)
        .column(person::Column::Trn)
        .filter(person::Column::Id.in_subquery(people.clone()))
        .filter(person::Column::Trn.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let checks = records_for(db, people).await?;
    let due: BTreeSet<String> = trns
        .into_iter()
        .filter_map(|(id, trn)| {
            let checks = checks.get(&id).map_or(&[][..], Vec::as_slice);
            trn.filter(|_| rules::due_dfe_check(checks, today))
        })
        .collect();
    let per = rules::DFE_CHECK_FILE_ROWS;
    Ok(due
        .into_iter()
        .skip((page as usize - 1).saturating_mul(per))
        .take(per)
        .collect())
}
