//! The `governance_sign_off` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "governance_sign_off")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub school_urn: i32,
    pub document: String,
    pub academic_year: Option<i32>,
    pub term: Option<String>,
    pub report_version: Option<i32>,
    pub document_date: Option<Date>,
    pub signed_on: Date,
    pub signed_by: String,
    pub role: String,
    #[sea_orm(column_type = "Text")]
    pub statement: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
