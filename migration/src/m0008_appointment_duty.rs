//! Derived facts kept on write (SPEC 4.4): for each SENCO appointment, what does not depend
//! on the date asked about (whether the duty applies, why not, the deadline, the prior
//! service counted, the person's earliest counting award), so that deadlines, compliance
//! and the dashboard read them instead of recomputing every person's history. The facts
//! are written by the product in the same transaction as the change that moves them;
//! `facts_version` records which version of the rules wrote them, so that a rule change
//! rebuilds them once at start-up.
//!
//! The change log of m0007 is dropped: nothing is brought up to date from it any more.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AppointmentDuty::Table)
                .col(big_integer(AppointmentDuty::AppointmentId).primary_key())
                .col(boolean(AppointmentDuty::DutyApplies))
                .col(string_len_null(AppointmentDuty::ExemptionReason, 40))
                .col(date_null(AppointmentDuty::Deadline))
                .col(integer(AppointmentDuty::PriorServiceDays))
                .col(date_null(AppointmentDuty::QualifiedOn))
                .col(big_integer_null(AppointmentDuty::QualifyingAwardId))
                .foreign_key(
                    ForeignKey::create()
                        .from(AppointmentDuty::Table, AppointmentDuty::AppointmentId)
                        .to(SencoAppointment::Table, SencoAppointment::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FactsVersion::Table)
                .col(string_len(FactsVersion::Name, 40).primary_key())
                .col(integer(FactsVersion::Version))
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(ChangeLog::Table).if_exists().to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FactsVersion::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AppointmentDuty::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AppointmentDuty {
    Table,
    AppointmentId,
    DutyApplies,
    ExemptionReason,
    Deadline,
    PriorServiceDays,
    QualifiedOn,
    QualifyingAwardId,
}

#[derive(DeriveIden)]
enum FactsVersion {
    Table,
    Name,
    Version,
}

#[derive(DeriveIden)]
enum SencoAppointment {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
}
