//! The NPQ cohort calendar, expected completion dates and evidence checks (SPEC 4.8, 4.9).
//!
//! `npq_cohort` is policy data kept by administrators, keyed by the day a cohort starts; the
//! illustrative calendar a new database starts with is written by the product when this
//! migration is applied (`api::db`), not here. `qualification.expected_completion_on` is
//! when a course's award is expected. `evidence_check` records that a person's QTS,
//! induction or award was confirmed against a source.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(NpqCohort::Table)
                .col(date(NpqCohort::StartsOn).primary_key())
                .col(date(NpqCohort::RegistrationClosesOn))
                .col(integer(NpqCohort::ExpectedOutcomeMonths))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Qualification::Table)
                .add_column(date_null(Qualification::ExpectedCompletionOn))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(EvidenceCheck::Table)
                .col(pk_auto(EvidenceCheck::Id).big_integer())
                .col(big_integer(EvidenceCheck::PersonId))
                .col(date(EvidenceCheck::CheckedOn))
                .col(string_len(EvidenceCheck::Source, 40))
                .col(string_len(EvidenceCheck::Confirms, 100))
                .col(text_null(EvidenceCheck::Note))
                .foreign_key(
                    ForeignKey::create()
                        .from(EvidenceCheck::Table, EvidenceCheck::PersonId)
                        .to(Person::Table, Person::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_evidence_check_person")
                .table(EvidenceCheck::Table)
                .col(EvidenceCheck::PersonId)
                .col(EvidenceCheck::CheckedOn)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EvidenceCheck::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Qualification::Table)
                .drop_column(Qualification::ExpectedCompletionOn)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(NpqCohort::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum NpqCohort {
    Table,
    StartsOn,
    RegistrationClosesOn,
    ExpectedOutcomeMonths,
}

#[derive(DeriveIden)]
enum Qualification {
    Table,
    ExpectedCompletionOn,
}

#[derive(DeriveIden)]
enum EvidenceCheck {
    Table,
    Id,
    PersonId,
    CheckedOn,
    Source,
    Confirms,
    Note,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}
