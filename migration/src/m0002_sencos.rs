//! People, their SENCO appointments, prior SENCO service and qualifications (SPEC 4.2).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_reference_data::School;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Person::Table)
                .col(pk_auto(Person::Id).big_integer())
                .col(string_len_null(Person::Trn, 7).unique_key())
                .col(string(Person::FullName))
                .col(string_null(Person::Email))
                .col(boolean(Person::HasQts))
                .col(string_len(Person::InductionStatus, 20))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SencoAppointment::Table)
                .col(pk_auto(SencoAppointment::Id).big_integer())
                .col(big_integer(SencoAppointment::PersonId))
                .col(integer(SencoAppointment::SchoolUrn))
                .col(date(SencoAppointment::StartedOn))
                .col(date_null(SencoAppointment::EndedOn))
                .col(boolean(SencoAppointment::IsHeadteacher))
                .col(boolean(SencoAppointment::WorksAsTeacherAtSchool))
                .col(boolean(SencoAppointment::OnSeniorLeadershipTeam))
                .col(double_null(SencoAppointment::NonContactHoursPerWeek))
                .col(double_null(SencoAppointment::ClassTeachingFraction))
                .foreign_key(
                    ForeignKey::create()
                        .from(SencoAppointment::Table, SencoAppointment::PersonId)
                        .to(Person::Table, Person::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SencoAppointment::Table, SencoAppointment::SchoolUrn)
                        .to(School::Table, School::Urn),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_appointment_school")
                .table(SencoAppointment::Table)
                .col(SencoAppointment::SchoolUrn)
                .col(SencoAppointment::StartedOn)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_appointment_person")
                .table(SencoAppointment::Table)
                .col(SencoAppointment::PersonId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PriorSencoService::Table)
                .col(pk_auto(PriorSencoService::Id).big_integer())
                .col(big_integer(PriorSencoService::PersonId))
                .col(date(PriorSencoService::StartedOn))
                .col(date(PriorSencoService::EndedOn))
                .col(text_null(PriorSencoService::Description))
                .foreign_key(
                    ForeignKey::create()
                        .from(PriorSencoService::Table, PriorSencoService::PersonId)
                        .to(Person::Table, Person::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_prior_service_person")
                .table(PriorSencoService::Table)
                .col(PriorSencoService::PersonId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Qualification::Table)
                .col(pk_auto(Qualification::Id).big_integer())
                .col(big_integer(Qualification::PersonId))
                .col(string_len(Qualification::Kind, 20))
                .col(string_null(Qualification::Provider))
                .col(date(Qualification::StartedOn))
                .col(date_null(Qualification::CompletedOn))
                .foreign_key(
                    ForeignKey::create()
                        .from(Qualification::Table, Qualification::PersonId)
                        .to(Person::Table, Person::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_qualification_person")
                .table(Qualification::Table)
                .col(Qualification::PersonId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Qualification::Table.into_iden(),
            PriorSencoService::Table.into_iden(),
            SencoAppointment::Table.into_iden(),
            Person::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub(crate) enum Person {
    Table,
    Id,
    Trn,
    FullName,
    Email,
    HasQts,
    InductionStatus,
}

#[derive(DeriveIden)]
enum SencoAppointment {
    Table,
    Id,
    PersonId,
    SchoolUrn,
    StartedOn,
    EndedOn,
    IsHeadteacher,
    WorksAsTeacherAtSchool,
    OnSeniorLeadershipTeam,
    NonContactHoursPerWeek,
    ClassTeachingFraction,
}

#[derive(DeriveIden)]
enum PriorSencoService {
    Table,
    Id,
    PersonId,
    StartedOn,
    EndedOn,
    Description,
}

#[derive(DeriveIden)]
enum Qualification {
    Table,
    Id,
    PersonId,
    Kind,
    Provider,
    StartedOn,
    CompletedOn,
}
