//! The `governance_action` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "governance_action")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub school_urn: i32,
    pub meeting_id: Option<i64>,
    pub area: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub owner: String,
    pub due_on: Date,
    pub status: String,
    pub completed_on: Option<Date>,
    pub cost_pence: i64,
    pub time_hours: f64,
    #[sea_orm(column_type = "Text", nullable)]
    pub success_criteria: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub monitoring: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub evaluation: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
