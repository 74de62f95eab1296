//! The `cluster_member` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "cluster_member")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub cluster_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_urn: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
