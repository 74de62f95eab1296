//! The governing body's side (SPEC 4.10): SENCO-governor meetings, the actions agreed at
//! them and in the SEN action plan, and the governing body's sign-offs of the school's SEN
//! documents.
//!
//! A meeting's attendees and agenda items are small ordered lists read and written with the
//! meeting as a whole, so they are kept as JSON text beside it rather than as tables of
//! their own. A sign-off names the report version or document date it binds; whether it is
//! still current depends on what the school reported since, and is worked out on read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(GovernorMeeting::Table)
                .col(pk_auto(GovernorMeeting::Id).big_integer())
                .col(integer(GovernorMeeting::SchoolUrn))
                .col(date(GovernorMeeting::HeldOn))
                .col(date_null(GovernorMeeting::NextMeetingOn))
                .col(text(GovernorMeeting::Attendees))
                .col(text(GovernorMeeting::Items))
                .foreign_key(
                    ForeignKey::create()
                        .from(GovernorMeeting::Table, GovernorMeeting::SchoolUrn)
                        .to(School::Table, School::Urn),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_governor_meeting_school")
                .table(GovernorMeeting::Table)
                .col(GovernorMeeting::SchoolUrn)
                .col(GovernorMeeting::HeldOn)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(GovernanceAction::Table)
                .col(pk_auto(GovernanceAction::Id).big_integer())
                .col(integer(GovernanceAction::SchoolUrn))
                .col(big_integer_null(GovernanceAction::MeetingId))
                .col(string_len_null(GovernanceAction::Area, 200))
                .col(text(GovernanceAction::Description))
                .col(string_len(GovernanceAction::Owner, 200))
                .col(date(GovernanceAction::DueOn))
                .col(string_len(GovernanceAction::Status, 10))
                .col(date_null(GovernanceAction::CompletedOn))
                .col(big_integer(GovernanceAction::CostPence))
                .col(double(GovernanceAction::TimeHours))
                .col(text_null(GovernanceAction::SuccessCriteria))
                .col(text_null(GovernanceAction::Monitoring))
                .col(text_null(GovernanceAction::Evaluation))
                .foreign_key(
                    ForeignKey::create()
                        .from(GovernanceAction::Table, GovernanceAction::SchoolUrn)
                        .to(School::Table, School::Urn),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(GovernanceAction::Table, GovernanceAction::MeetingId)
                        .to(GovernorMeeting::Table, GovernorMeeting::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_governance_action_school")
                .table(GovernanceAction::Table)
                .col(GovernanceAction::SchoolUrn)
                .col(GovernanceAction::Status)
                .col(GovernanceAction::DueOn)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_governance_action_meeting")
                .table(GovernanceAction::Table)
                .col(GovernanceAction::MeetingId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(GovernanceSignOff::Table)
                .col(pk_auto(GovernanceSignOff::Id).big_integer())
                .col(integer(GovernanceSignOff::SchoolUrn))
                .col(string_len(GovernanceSignOff::Document, 30))
                .col(integer_null(GovernanceSignOff::AcademicYear))
                .col(string_len_null(GovernanceSignOff::Term, 10))
                .col(integer_null(GovernanceSignOff::ReportVersion))
                .col(date_null(GovernanceSignOff::DocumentDate))
                .col(date(GovernanceSignOff::SignedOn))
                .col(string_len(GovernanceSignOff::SignedBy, 200))
                .col(string_len(GovernanceSignOff::Role, 20))
                .col(text(GovernanceSignOff::Statement))
                .foreign_key(
                    ForeignKey::create()
                        .from(GovernanceSignOff::Table, GovernanceSignOff::SchoolUrn)
                        .to(School::Table, School::Urn),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_governance_sign_off_school")
                .table(GovernanceSignOff::Table)
                .col(GovernanceSignOff::SchoolUrn)
                .col(GovernanceSignOff::Document)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            GovernanceSignOff::Table.into_iden(),
            GovernanceAction::Table.into_iden(),
            GovernorMeeting::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum School {
    Table,
    Urn,
}

#[derive(DeriveIden)]
enum GovernorMeeting {
    Table,
    Id,
    SchoolUrn,
    HeldOn,
    NextMeetingOn,
    Attendees,
    Items,
}

#[derive(DeriveIden)]
enum GovernanceAction {
    Table,
    Id,
    SchoolUrn,
    MeetingId,
    Area,
    Description,
    Owner,
    DueOn,
    Status,
    CompletedOn,
    CostPence,
    TimeHours,
    SuccessCriteria,
    Monitoring,
    Evaluation,
}

#[derive(DeriveIden)]
enum GovernanceSignOff {
    Table,
    Id,
    SchoolUrn,
    Document,
    AcademicYear,
    Term,
    ReportVersion,
    DocumentDate,
    SignedOn,
    SignedBy,
    Role,
    Statement,
}
