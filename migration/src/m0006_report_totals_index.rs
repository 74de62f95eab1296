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
        m.create_index(by_term(WIDE, true)).await?;
        m.drop_index(drop(NARROW)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(by_term(NARROW, false)).await?;
        m.drop_index(drop(WIDE)).await
    }
}

/// The index this migration adds.
const WIDE: &str = "idx_report_term_totals";
/// The index it replaces (from m0003).
const NARROW: &str = "idx_report_latest_by_term";

/// An index of the reports by (year, term, latest, school), with the summed figures when
/// `with_figures`.
fn by_term(name: &str, with_figures: bool) -> IndexCreateStatement {
    use TermlyReport as T;
    let mut index = Index::create();
    index
        .name(name)
        .table(T::Table)
        .if_not_exists()
        .col(T::AcademicYear)
        .col(T::Term)
        .col(T::IsLatest)
        .col(T::SchoolUrn);
    if with_figures {
        for c in [
            T::NumberOnRoll,
            T::PupilsWithSend,
            T::SenSupport,
            T::Ehcp,
            T::EhcpApplicationsInProcess,
            T::BudgetE1Pence,
            T::BudgetE2Pence,
            T::BudgetE3Pence,
            T::BudgetAdditionalPence,
            T::ExpenditureToDatePence,
        ] {
            index.col(c);
        }
    }
    index.to_owned()
}

fn drop(name: &str) -> IndexDropStatement {
    Index::drop()
        .name(name)
        .table(TermlyReport::Table)
        .if_exists()
        .to_owned()
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
