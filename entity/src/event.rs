//! The `event` table: the outbox of SPEC 4.11.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub occurred_at: DateTimeUtc,
    pub school_urn: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub data: String,
    pub dedup_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
