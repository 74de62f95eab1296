//! A counter that moves whenever staff or reference data changes, so that results computed
//! from those rows (the qualification deadlines) can be cached until it moves. Termly
//! report submissions do not move it, so a stream of submissions leaves those results
//! cached.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ChangeMarker::Table)
                .if_not_exists()
                .col(string_len(ChangeMarker::Domain, 20).primary_key())
                .col(big_integer(ChangeMarker::N))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ChangeMarker::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ChangeMarker {
    Table,
    Domain,
    N,
}
