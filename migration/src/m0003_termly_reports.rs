//! Termly SENCO reports (SPEC 4.5): every submitted version is a row of its own.
//!
//! `is_latest` marks the newest version of each (school, year, term) so that summaries
//! read one row per school without a correlated sub-query; the unique key on the version
//! number is what makes two racing amendments end as one success and one conflict.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_reference_data::School;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use TermlyReport as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(pk_auto(T::Id).big_integer())
                .col(integer(T::SchoolUrn))
                .col(integer(T::AcademicYear))
                .col(string_len(T::Term, 10))
                .col(integer(T::Version))
                .col(boolean(T::IsLatest))
                .col(timestamp_with_time_zone(T::SubmittedAt))
                .col(string(T::SubmittedBy))
                .col(string_len_null(T::IdempotencyKey, 200))
                .col(string_len(T::ContentHash, 64))
                .col(integer(T::NumberOnRoll))
                .col(integer(T::PupilsWithSend))
                .col(integer(T::SenSupport))
                .col(integer(T::Ehcp))
                .col(integer(T::EhcpApplicationsInProcess))
                .col(big_integer(T::BudgetE1Pence))
                .col(big_integer(T::BudgetE2Pence))
                .col(big_integer(T::BudgetE3Pence))
                .col(big_integer(T::BudgetAdditionalPence))
                .col(big_integer(T::ExpenditureToDatePence))
                .col(double(T::NonContactHoursPerWeek))
                .col(date_null(T::SenPolicyDate))
                .col(date_null(T::ProvisionReviewDate))
                .col(date_null(T::SenInformationReportPublishedOn))
                .col(text_null(T::Challenges))
                .col(text_null(T::OngoingConcerns))
                .col(text_null(T::TrainingUndertaken))
                .foreign_key(
                    ForeignKey::create()
                        .from(T::Table, T::SchoolUrn)
                        .to(School::Table, School::Urn),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_report_version")
                .table(T::Table)
                .col(T::SchoolUrn)
                .col(T::AcademicYear)
                .col(T::Term)
                .col(T::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_report_idempotency_key")
                .table(T::Table)
                .col(T::SchoolUrn)
                .col(T::IdempotencyKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_report_latest_by_term")
                .table(T::Table)
                .col(T::AcademicYear)
                .col(T::Term)
                .col(T::IsLatest)
                .col(T::SchoolUrn)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TermlyReport::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TermlyReport {
    Table,
    Id,
    SchoolUrn,
    AcademicYear,
    Term,
    Version,
    IsLatest,
    SubmittedAt,
    SubmittedBy,
    IdempotencyKey,
    ContentHash,
    NumberOnRoll,
    PupilsWithSend,
    SenSupport,
    Ehcp,
    EhcpApplicationsInProcess,
    BudgetE1Pence,
    BudgetE2Pence,
    BudgetE3Pence,
    BudgetAdditionalPence,
    ExpenditureToDatePence,
    NonContactHoursPerWeek,
    SenPolicyDate,
    ProvisionReviewDate,
    SenInformationReportPublishedOn,
    Challenges,
    OngoingConcerns,
    TrainingUndertaken,
}
