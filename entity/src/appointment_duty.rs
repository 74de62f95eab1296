//! The `appointment_duty` table: facts derived from an appointment and its person's
//! history that do not depend on the date asked about (SPEC 4.4), kept on write.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "appointment_duty")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub appointment_id: i64,
    pub duty_applies: bool,
    pub exemption_reason: Option<String>,
    pub deadline: Option<Date>,
    pub prior_service_days: i32,
    pub qualified_on: Option<Date>,
    pub qualifying_award_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::senco_appointment::Entity",
        from = "Column::AppointmentId",
        to = "super::senco_appointment::Column::Id"
    )]
    SencoAppointment,
}

impl Related<super::senco_appointment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SencoAppointment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
