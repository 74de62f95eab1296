//! The `governor_meeting` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "governor_meeting")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub school_urn: i32,
    pub held_on: Date,
    pub next_meeting_on: Option<Date>,
    /// A JSON array of `{ "name", "role" }`.
    #[sea_orm(column_type = "Text")]
    pub attendees: String,
    /// A JSON array of `{ "title", "key_points" }`.
    #[sea_orm(column_type = "Text")]
    pub items: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
