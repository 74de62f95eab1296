//! The `school` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "school")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub urn: i32,
    pub name: String,
    pub la_code: i32,
    pub trust_uid: Option<i32>,
    pub phase: String,
    pub kind: String,
    pub is_academy: bool,
    pub number_on_roll: Option<i32>,
    pub predecessor_urn: Option<i32>,
    pub closed_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
