//! Local authorities, trusts, schools and the census snapshot kept beside each school.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LocalAuthority::Table)
                .col(integer(LocalAuthority::Code).primary_key())
                .col(string(LocalAuthority::Name))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Trust::Table)
                .col(integer(Trust::Uid).primary_key())
                .col(string(Trust::Name))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(School::Table)
                .col(integer(School::Urn).primary_key())
                .col(string(School::Name))
                .col(integer(School::LaCode))
                .col(integer_null(School::TrustUid))
                .col(string_len(School::Phase, 20))
                .col(string_len(School::Kind, 30))
                .col(boolean(School::IsAcademy))
                .col(integer_null(School::NumberOnRoll))
                .col(integer_null(School::PredecessorUrn))
                .col(date_null(School::ClosedOn))
                .foreign_key(
                    ForeignKey::create()
                        .from(School::Table, School::LaCode)
                        .to(LocalAuthority::Table, LocalAuthority::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(School::Table, School::TrustUid)
                        .to(Trust::Table, Trust::Uid),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_school_la", School::LaCode),
            ("idx_school_trust", School::TrustUid),
            ("idx_school_predecessor", School::PredecessorUrn),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(School::Table)
                    .col(col)
                    .col(School::Urn)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(SchoolCensus::Table)
                .col(integer(SchoolCensus::SchoolUrn))
                .col(date(SchoolCensus::CollectedOn))
                .col(integer_null(SchoolCensus::NumberOnRoll))
                .col(integer_null(SchoolCensus::Ehcp))
                .col(integer_null(SchoolCensus::SenSupport))
                .primary_key(
                    Index::create()
                        .col(SchoolCensus::SchoolUrn)
                        .col(SchoolCensus::CollectedOn),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SchoolCensus::Table, SchoolCensus::SchoolUrn)
                        .to(School::Table, School::Urn),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SchoolCensus::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(School::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Trust::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(LocalAuthority::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum LocalAuthority {
    Table,
    Code,
    Name,
}

#[derive(DeriveIden)]
pub(crate) enum Trust {
    Table,
    Uid,
    Name,
}

#[derive(DeriveIden)]
pub(crate) enum School {
    Table,
    Urn,
    Name,
    LaCode,
    TrustUid,
    Phase,
    Kind,
    IsAcademy,
    NumberOnRoll,
    PredecessorUrn,
    ClosedOn,
}

#[derive(DeriveIden)]
enum SchoolCensus {
    Table,
    SchoolUrn,
    CollectedOn,
    NumberOnRoll,
    Ehcp,
    SenSupport,
}
