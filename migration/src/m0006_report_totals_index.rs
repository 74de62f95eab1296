//! The termly summary adds up the latest reports of a term. The index it ranges over
//! (`idx_report_latest_by_term`) is widened with the figures it sums, so that both
//! databases answer it from the index alone instead of reading every wide report row
//! (free text included) of the term. Same leading columns, so every query that used the
//! old index uses this one; one index fewer to maintain than keeping both.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use TermlyReport as T;
        m.create_index(
            Index::create()
                .name("idx_report_term_totals")
                .table(T::Table)
                .if_not_exists()
                .col(T::AcademicYear)
                .col(T::Term)
                .col(T::IsLatest)
                .col(T::SchoolUrn)
                .col(T::NumberOnRoll)
                .col(T::PupilsWithSend)
                .col(T::SenSupport)
                .col(T::Ehcp)
                .col(T::EhcpApplicationsInProcess)
                .col(T::BudgetE1Pence)
                .col(T::BudgetE2Pence)
                .col(T::BudgetE3Pence)
                .col(T::BudgetAdditionalPence)
                .col(T::ExpenditureToDatePence)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_report_latest_by_term")
                .table(T::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use TermlyReport as T;
        m.create_index(
            Index::create()
                .name("idx_report_latest_by_term")
                .table(T::Table)
                .if_not_exists()
                .col(T::AcademicYear)
                .col(T::Term)
                .col(T::IsLatest)
                .col(T::SchoolUrn)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_report_term_totals")
                .table(T::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum TermlyReport {
    Table,
    SchoolUrn,
    AcademicYear,
    Term,
    IsLatest,
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
}
