//! SeaORM entities, one module per table, in the form `sea-orm-cli generate entity` writes.
//!
//! Entities are storage rows only; GraphQL output types live in `api::graphql`.

pub mod appointment_duty;
pub mod audit_event;
pub mod cluster;
pub mod cluster_member;
pub mod event;
pub mod evidence_check;
pub mod facts_version;
pub mod governance_action;
pub mod governance_sign_off;
pub mod governor_meeting;
pub mod import_run;
pub mod local_authority;
pub mod npq_cohort;
pub mod person;
pub mod prior_senco_service;
pub mod qualification;
pub mod reminder_run;
pub mod school;
pub mod school_census;
pub mod senco_appointment;
pub mod termly_report;
pub mod trust;
pub mod webhook;
pub mod webhook_delivery;
