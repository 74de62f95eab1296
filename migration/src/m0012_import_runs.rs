//! One row per finished import (`import-census`, `import-gias`, `import-gias-links`), so that
//! the server's `/metrics` can say what the imports did although they run as commands of
//! their own, in other processes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ImportRun::Table)
                .if_not_exists()
                .col(big_pk_auto(ImportRun::Id))
                .col(string_len(ImportRun::File, 20))
                .col(timestamp_with_time_zone(ImportRun::FinishedAt))
                .col(big_integer(ImportRun::RowsRead))
                .col(big_integer(ImportRun::Inserted))
                .col(big_integer(ImportRun::Updated))
                .col(big_integer(ImportRun::Unchanged))
                .col(big_integer(ImportRun::Skipped))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ImportRun::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ImportRun {
    Table,
    Id,
    File,
    FinishedAt,
    RowsRead,
    Inserted,
    Updated,
    Unchanged,
    Skipped,
}
