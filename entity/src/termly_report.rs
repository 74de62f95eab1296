//! The `termly_report` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "termly_report")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub school_urn: i32,
    pub academic_year: i32,
    pub term: String,
    pub version: i32,
    pub is_latest: bool,
    pub submitted_at: DateTimeUtc,
    pub submitted_by: String,
    pub idempotency_key: Option<String>,
    pub content_hash: String,
    pub number_on_roll: i32,
    pub pupils_with_send: i32,
    pub sen_support: i32,
    pub ehcp: i32,
    pub ehcp_applications_in_process: i32,
    pub budget_e1_pence: i64,
    pub budget_e2_pence: i64,
    pub budget_e3_pence: i64,
    pub budget_additional_pence: i64,
    pub expenditure_to_date_pence: i64,
    pub non_contact_hours_per_week: f64,
    pub sen_policy_date: Option<Date>,
    pub provision_review_date: Option<Date>,
    pub sen_information_report_published_on: Option<Date>,
    #[sea_orm(column_type = "Text", nullable)]
    pub challenges: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub ongoing_concerns: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub training_undertaken: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
