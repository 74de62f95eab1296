//! Shared-SENCO clusters (SPEC 4.6) and the audit log written by every mutation.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_reference_data::School;
use crate::m0002_sencos::Person;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Cluster::Table)
                .col(pk_auto(Cluster::Id).big_integer())
                .col(string(Cluster::Name))
                .col(big_integer(Cluster::SencoPersonId))
                .col(date(Cluster::StartedOn))
                .col(date_null(Cluster::LastReviewedOn))
                .col(integer(Cluster::ReviewIntervalMonths))
                .col(date_null(Cluster::EndedOn))
                .foreign_key(
                    ForeignKey::create()
                        .from(Cluster::Table, Cluster::SencoPersonId)
                        .to(Person::Table, Person::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ClusterMember::Table)
                .col(big_integer(ClusterMember::ClusterId))
                .col(integer(ClusterMember::SchoolUrn))
                .primary_key(
                    Index::create()
                        .col(ClusterMember::ClusterId)
                        .col(ClusterMember::SchoolUrn),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ClusterMember::Table, ClusterMember::ClusterId)
                        .to(Cluster::Table, Cluster::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ClusterMember::Table, ClusterMember::SchoolUrn)
                        .to(School::Table, School::Urn),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_cluster_member_school")
                .table(ClusterMember::Table)
                .col(ClusterMember::SchoolUrn)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditEvent::Table)
                .col(pk_auto(AuditEvent::Id).big_integer())
                .col(timestamp_with_time_zone(AuditEvent::OccurredAt))
                .col(string(AuditEvent::Actor))
                .col(string_len(AuditEvent::Operation, 60))
                .col(integer_null(AuditEvent::SchoolUrn))
                .col(string_len(AuditEvent::Entity, 40))
                .col(string_len(AuditEvent::RowId, 40))
                .col(text_null(AuditEvent::Before))
                .col(text_null(AuditEvent::After))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_school")
                .table(AuditEvent::Table)
                .col(AuditEvent::SchoolUrn)
                .col(AuditEvent::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AuditEvent::Table.into_iden(),
            ClusterMember::Table.into_iden(),
            Cluster::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Cluster {
    Table,
    Id,
    Name,
    SencoPersonId,
    StartedOn,
    LastReviewedOn,
    ReviewIntervalMonths,
    EndedOn,
}

#[derive(DeriveIden)]
enum ClusterMember {
    Table,
    ClusterId,
    SchoolUrn,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    OccurredAt,
    Actor,
    Operation,
    SchoolUrn,
    Entity,
    RowId,
    Before,
    After,
}
