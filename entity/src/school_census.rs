//! The `school_census` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "school_census")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_urn: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub collected_on: Date,
    pub number_on_roll: Option<i32>,
    pub ehcp: Option<i32>,
    pub sen_support: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
