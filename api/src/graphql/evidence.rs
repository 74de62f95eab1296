//! Evidence checks over GraphQL (SPEC 4.9).

use async_graphql::{Context, Enum, ID, InputObject, Object};
use entity::evidence_check;

use crate::domain::evidence as rules;
use crate::domain::validation;
use crate::error::{ApiError, ApiResult};
use crate::graphql::sencos::Person;
use crate::graphql::{Date, loaders, parse_id, rc, today};
use crate::service;
use crate::store::evidence::NewEvidenceCheck;

/// Where an evidence check looked.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::evidence::EvidenceSource")]
pub enum EvidenceSource {
    /// DfE's "check a teacher's record" service (QTS, induction, the NPQ for SENCOs).
    DfeTeacherRecord,
    /// A certificate seen (the NASENCO is a university award).
    Certificate,
    /// Anything else, described in the note.
    Other,
}

/// What an evidence check confirmed.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::evidence::EvidenceItem")]
pub enum EvidenceItem {
    /// Qualified teacher status.
    Qts,
    /// Statutory induction.
    Induction,
    /// The NPQ for SENCOs.
    NpqSenco,
    /// The National Award for SEN Co-ordination.
    Nasenco,
}

/// A check that a person's QTS, induction or award is as recorded.
pub struct EvidenceCheck(pub evidence_check::Model);

/// A check that a person's QTS, induction or award is as recorded.
#[Object]
impl EvidenceCheck {
    /// The check's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The person checked.
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        let l = super::loaders(ctx)?;
        Ok(Person(
            loaders::one(&l.people, self.0.person_id)
                .await?
                .ok_or_else(|| ApiError::internal("evidence check without person"))?,
        ))
    }
    /// The day of the check.
    async fn checked_on(&self) -> Date {
        Date(self.0.checked_on)
    }
    /// Where it looked.
    async fn source(&self) -> async_graphql::Result<EvidenceSource> {
        Ok(rules::EvidenceSource::parse(&self.0.source)
            .ok_or_else(|| ApiError::internal("stored evidence source"))?
            .into())
    }
    /// What it confirmed (at least one item).
    async fn confirms(&self) -> Vec<EvidenceItem> {
        rules::EvidenceItem::split(&self.0.confirms)
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// A note on the check; null when none was given.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// Records an evidence check of a person's records.
#[derive(InputObject)]
pub struct RecordEvidenceCheckInput {
    /// The person checked (writable by the caller).
    pub person_id: ID,
    /// The day of the check, not in the future.
    pub checked_on: Date,
    /// Where it looked.
    pub source: EvidenceSource,
    /// What it confirmed: at least one item; the DfE record cannot confirm a NASENCO.
    pub confirms: Vec<EvidenceItem>,
    /// A note, at most 1,000 characters.
    pub note: Option<String>,
}

fn bad(field: &str) -> impl Fn(String) -> ApiError + '_ {
    move |m| ApiError::bad_input(field, m)
}

impl RecordEvidenceCheckInput {
    fn parse(self) -> ApiResult<NewEvidenceCheck> {
        let source: rules::EvidenceSource = self.source.into();
        let items: Vec<rules::EvidenceItem> = self.confirms.into_iter().map(Into::into).collect();
        Ok(NewEvidenceCheck {
            person_id: parse_id(&self.person_id, "input.personId")?,
            checked_on: validation::past_date(self.checked_on.0, today())
                .map_err(bad("input.checkedOn"))?,
            confirms: rules::check_confirms(source, &items).map_err(bad("input.confirms"))?,
            source,
            note: validation::optional_text(self.note, 1000).map_err(bad("input.note"))?,
        })
    }
}

/// Evidence mutations: those who may write the person's SENCO records.
#[derive(Default)]
pub struct EvidenceMutation;

/// Evidence mutations: those who may write the person's SENCO records.
#[Object]
impl EvidenceMutation {
    /// Records that a person's QTS, induction or award was checked against a source.
    async fn record_evidence_check(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The check.")] input: RecordEvidenceCheckInput,
    ) -> async_graphql::Result<EvidenceCheck> {
        let rc = rc(ctx)?;
        crate::store::scope::require_authenticated(&rc.principal)?;
        let new = input.parse()?;
        Ok(EvidenceCheck(
            service::evidence::record(&rc.db, &rc.principal, new)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }
}
