//! The `senco_appointment` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "senco_appointment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    pub school_urn: i32,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub is_headteacher: bool,
    pub works_as_teacher_at_school: bool,
    pub on_senior_leadership_team: bool,
    pub non_contact_hours_per_week: Option<f64>,
    pub class_teaching_fraction: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
