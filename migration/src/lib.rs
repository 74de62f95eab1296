//! Append-only schema migrations, shared by SQLite and PostgreSQL.
//!
//! Never edit a migration that has shipped: add a new one. Seed data never lives here.

pub use sea_orm_migration::prelude::*;

mod m0001_reference_data;
mod m0002_sencos;
mod m0003_termly_reports;
mod m0004_clusters_and_audit;
mod m0005_change_marker;
mod m0006_report_totals_index;
mod m0007_change_log;
mod m0008_appointment_duty;
mod m0009_npq_and_evidence;
mod m0010_governance;
mod m0011_events;
mod m0012_import_runs;

/// The ordered list of migrations the binary applies.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_reference_data::Migration),
            Box::new(m0002_sencos::Migration),
            Box::new(m0003_termly_reports::Migration),
            Box::new(m0004_clusters_and_audit::Migration),
            Box::new(m0005_change_marker::Migration),
            Box::new(m0006_report_totals_index::Migration),
            Box::new(m0007_change_log::Migration),
            Box::new(m0008_appointment_duty::Migration),
            Box::new(m0009_npq_and_evidence::Migration),
            Box::new(m0010_governance::Migration),
            Box::new(m0011_events::Migration),
            Box::new(m0012_import_runs::Migration),
        ]
    }
}
