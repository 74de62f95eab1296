//! What each committed change touched, next to the counter it moved (`change_marker`), so
//! that a cached result (an LA's qualification deadlines, a termly summary) can be brought
//! up to date by redoing only the part a change touched: one person's deadlines, one
//! report's share of the totals. Rows are keyed by the counter and its value, so the rows
//! between two markers are exactly the changes between them; old rows are pruned as new
//! ones arrive, and a gap means "recompute in full".

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ChangeLog::Table)
                .if_not_exists()
                .col(string_len(ChangeLog::Domain, 20))
                .col(big_integer(ChangeLog::N))
                .col(string_len(ChangeLog::Kind, 10))
                .col(big_integer_null(ChangeLog::PersonId))
                .col(integer_null(ChangeLog::SchoolUrn))
                .col(integer_null(ChangeLog::AcademicYear))
                .col(string_len_null(ChangeLog::Term, 10))
                .col(integer_null(ChangeLog::Version))
                .primary_key(Index::create().col(ChangeLog::Domain).col(ChangeLog::N))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ChangeLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    Domain,
    N,
    Kind,
    PersonId,
    SchoolUrn,
    AcademicYear,
    Term,
    Version,
}
