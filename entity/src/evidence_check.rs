//! The `evidence_check` table: a person's QTS, induction or award confirmed against a source.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "evidence_check")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    pub checked_on: Date,
    pub source: String,
    /// The items confirmed, comma-separated (`QTS,NPQ_SENCO`).
    pub confirms: String,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
