//! Events and their deliveries (SPEC 4.11): the outbox every change event is written to in
//! the transaction of its change, the webhooks that receive them, one delivery row per
//! webhook and event (its status, attempts and next attempt), and the days the daily
//! reminder run has completed.
//!
//! A reminder carries a `dedup_key` naming its subject and occasion ("the 30-day reminder of
//! appointment 42's deadline"); the unique index on it is what makes each reminder raised
//! once, whichever replica runs the day and however often. Change events have no key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Event::Table)
                .col(big_integer(Event::Id).auto_increment().primary_key())
                .col(string_len(Event::Kind, 40))
                .col(timestamp_with_time_zone(Event::OccurredAt))
                .col(integer_null(Event::SchoolUrn))
                .col(text(Event::Data))
                .col(string_len_null(Event::DedupKey, 120))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("event_dedup_key")
                .table(Event::Table)
                .col(Event::DedupKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Webhook::Table)
                .col(big_integer(Webhook::Id).auto_increment().primary_key())
                .col(text(Webhook::Url))
                .col(text(Webhook::Types))
                .col(text_null(Webhook::Filter))
                .col(text_null(Webhook::Description))
                .col(text(Webhook::Secret))
                .col(string_len(Webhook::CreatedBy, 200))
                .col(text(Webhook::Scopes))
                .col(boolean(Webhook::Active))
                .col(timestamp_with_time_zone(Webhook::CreatedAt))
                .col(timestamp_with_time_zone(Webhook::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDelivery::Table)
                .col(
                    big_integer(WebhookDelivery::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(big_integer(WebhookDelivery::WebhookId))
                .col(big_integer(WebhookDelivery::EventId))
                .col(string_len(WebhookDelivery::Status, 10))
                .col(integer(WebhookDelivery::Attempts))
                .col(timestamp_with_time_zone(WebhookDelivery::CreatedAt))
                .col(timestamp_with_time_zone(WebhookDelivery::NextAttemptAt))
                .col(timestamp_with_time_zone_null(WebhookDelivery::LockedUntil))
                .col(timestamp_with_time_zone_null(
                    WebhookDelivery::LastAttemptAt,
                ))
                .col(timestamp_with_time_zone_null(WebhookDelivery::DeliveredAt))
                .col(integer_null(WebhookDelivery::LastStatusCode))
                .col(text_null(WebhookDelivery::LastError))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDelivery::Table, WebhookDelivery::WebhookId)
                        .to(Webhook::Table, Webhook::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDelivery::Table, WebhookDelivery::EventId)
                        .to(Event::Table, Event::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_delivery_due")
                .table(WebhookDelivery::Table)
                .col(WebhookDelivery::Status)
                .col(WebhookDelivery::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_delivery_by_webhook")
                .table(WebhookDelivery::Table)
                .col(WebhookDelivery::WebhookId)
                .col(WebhookDelivery::EventId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ReminderRun::Table)
                .col(date(ReminderRun::Day).primary_key())
                .col(timestamp_with_time_zone(ReminderRun::RanAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ReminderRun::Table.into_iden(),
            WebhookDelivery::Table.into_iden(),
            Webhook::Table.into_iden(),
            Event::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Event {
    Table,
    Id,
    Kind,
    OccurredAt,
    SchoolUrn,
    Data,
    DedupKey,
}

#[derive(DeriveIden)]
enum Webhook {
    Table,
    Id,
    Url,
    Types,
    Filter,
    Description,
    Secret,
    CreatedBy,
    Scopes,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
    WebhookId,
    EventId,
    Status,
    Attempts,
    CreatedAt,
    NextAttemptAt,
    LockedUntil,
    LastAttemptAt,
    DeliveredAt,
    LastStatusCode,
    LastError,
}

#[derive(DeriveIden)]
enum ReminderRun {
    Table,
    Day,
    RanAt,
}
