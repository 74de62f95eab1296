//! The audit log: every change made through a mutation, written in the same transaction.
//! Store functions describe the rows they change in a [`Journal`]; the service layer
//! records it under the use case's name. The journal also carries the events a use case
//! raises (SPEC 4.11), which `service::write` writes to the outbox in the same transaction.

use chrono::Utc;
use entity::audit_event;
use sea_orm::ColumnTrait;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::events::EventType;
use crate::domain::school::Urn;
use crate::error::{ApiError, ApiResult};
use crate::store::{Page, Paged, scope};

/// The rows one use case changed, as the store functions that changed them describe
/// them: which table, which row, which school, before and after. The store knows rows,
/// not use cases; the service layer that ran the use case records the journal under its
/// operation name with [`record`], in the same transaction.
#[derive(Debug, Default)]
pub struct Journal {
    rows: Vec<RowChange>,
    events: Vec<NewEvent>,
    /// Schools the use case read in its transaction, which the outbox need not read again.
    schools: std::collections::HashMap<i32, entity::school::Model>,
}

/// An event a use case raises, written to the outbox with its change (SPEC 4.11).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// What it announces.
    pub kind: EventType,
    /// The school it concerns; `None` for one that concerns no school (only `admin`
    /// webhooks and subscribers see those).
    pub school_urn: Option<i32>,
    /// Ids, dates and figures: never a person's name or e-mail.
    pub data: serde_json::Value,
    /// For a reminder, its subject and occasion: an event with a key already stored is not
    /// stored again.
    pub dedup_key: Option<String>,
}

#[derive(Debug)]
struct RowChange {
    school_urn: Option<i32>,
    entity: &'static str,
    row_id: String,
    before: Option<String>,
    after: Option<String>,
}

fn json<T: Serialize>(v: Option<&T>) -> ApiResult<Option<String>> {
    v.map(|v| serde_json::to_string(v).map_err(ApiError::internal))
        .transpose()
}

impl Journal {
    /// Notes that the row `entity`/`row_id` changed from `before` (None for an insert) to
    /// `after` (None for a delete); `school_urns` are the schools whose logs show it, one
    /// audit row each (none: a row that belongs to no school).
    pub fn changed<B: Serialize, A: Serialize>(
        &mut self,
        entity: &'static str,
        row_id: impl ToString,
        school_urns: &[i32],
        before: Option<&B>,
        after: Option<&A>,
    ) -> ApiResult<()> {
        let (before, after) = (json(before)?, json(after)?);
        let row_id = row_id.to_string();
        if school_urns.is_empty() {
            self.rows.push(RowChange {
                school_urn: None,
                entity,
                row_id,
                before,
                after,
            });
            return Ok(());
        }
        for urn in school_urns {
            self.rows.push(RowChange {
                school_urn: Some(*urn),
                entity,
                row_id: row_id.clone(),
                before: before.clone(),
                after: after.clone(),
            });
        }
        Ok(())
    }

    /// Notes that the row was inserted.
    pub fn inserted<A: Serialize>(
        &mut self,
        entity: &'static str,
        row_id: impl ToString,
        school_urns: &[i32],
        after: &A,
    ) -> ApiResult<()> {
        self.changed(entity, row_id, school_urns, None::<&A>, Some(after))
    }

    /// Notes that the row changed from `before` to `after`.
    pub fn updated<T: Serialize>(
        &mut self,
        entity: &'static str,
        row_id: impl ToString,
        school_urns: &[i32],
        before: &T,
        after: &T,
    ) -> ApiResult<()> {
        self.changed(entity, row_id, school_urns, Some(before), Some(after))
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Raises an event about `school_urn`, written to the outbox when the use case's
    /// transaction commits, and never when it rolls back. `data` holds ids, dates and
    /// figures, never a person's name or e-mail.
    pub fn raise(&mut self, kind: EventType, school_urn: Option<i32>, data: serde_json::Value) {
        self.events.push(NewEvent {
            kind,
            school_urn,
            data,
            dedup_key: None,
        });
    }

    /// The schools under which the row `entity`/`row_id` was noted, in the order noted.
    pub fn schools_of(&self, entity: &str, row_id: impl ToString) -> Vec<i32> {
        let row_id = row_id.to_string();
        let mut urns: Vec<i32> = Vec::new();
        for r in &self.rows {
            if r.entity == entity
                && r.row_id == row_id
                && let Some(urn) = r.school_urn
                && !urns.contains(&urn)
            {
                urns.push(urn);
            }
        }
        urns
    }

    /// The events raised so far, leaving none.
    pub fn take_events(&mut self) -> Vec<NewEvent> {
        std::mem::take(&mut self.events)
    }

    /// Notes a school the use case read in its transaction, so that the outbox, which
    /// needs the schools of the events raised, does not read it again.
    pub fn read_school(&mut self, school: &entity::school::Model) {
        self.schools.insert(school.urn, school.clone());
    }

    /// The schools noted with [`Journal::read_school`].
    pub fn take_schools(&mut self) -> std::collections::HashMap<i32, entity::school::Model> {
        std::mem::take(&mut self.schools)
    }
}

/// Writes the journal's rows as done by `p` in the use case `operation` (for a mutation, its
/// name); call it inside the transaction that made the changes.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    operation: &str,
    journal: Journal,
) -> ApiResult<()> {
    if journal.rows.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let actor = p.sub.clone().unwrap_or_default();
    let rows = journal.rows.into_iter().map(|r| audit_event::ActiveModel {
        occurred_at: Set(now),
        actor: Set(actor.clone()),
        operation: Set(operation.to_string()),
        school_urn: Set(r.school_urn),
        entity: Set(r.entity.to_string()),
        row_id: Set(r.row_id),
        before: Set(r.before),
        after: Set(r.after),
        ..Default::default()
    });
    audit_event::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// The audit events of one school, newest first, for callers who may read it; a reader who
/// may not see the school's governance text reads those rows without it
/// ([`crate::store::governance::redact_audit`]).
pub async fn for_school<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    urn: Urn,
    page: Page<i64>,
) -> ApiResult<Paged<audit_event::Model>> {
    let school = scope::require_school(db, urn, "schoolUrn").await?;
    scope::check_read(p, &school)?;
    let base = audit_event::Entity::find().filter(audit_event::Column::SchoolUrn.eq(urn.get()));
    let total = sea_orm::PaginatorTrait::count(base.clone(), db).await?;
    let mut q = base.order_by_desc(audit_event::Column::Id);
    if let Some(after) = page.after {
        q = q.filter(audit_event::Column::Id.lt(after));
    }
    let mut rows = q.limit(page.first + 1).all(db).await?;
    // The governance text an LA reader may not see is not shown in the history either.
    if !scope::reads_governance_text(p, &school) {
        rows = rows
            .into_iter()
            .map(crate::store::governance::redact_audit)
            .collect();
    }
    Ok(Paged::from_overfetch(rows, page.first, total))
}
