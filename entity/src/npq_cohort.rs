//! The `npq_cohort` table: the NPQ for SENCOs cohort calendar (policy data).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "npq_cohort")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub starts_on: Date,
    pub registration_closes_on: Date,
    pub expected_outcome_months: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
