//! The benchmark's data set: the product's own generator (`api::dataset`, the one the demo
//! uses too) over the whole census file, or three London LAs for a quick check, with
//! eighteen terms (six academic years) of reports.

use std::path::Path;

use anyhow::Context as _;
use chrono::NaiveDate;

pub use api::dataset::DataSet;
use api::db::Db;

/// How much of the country to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Every school in the census file.
    Full,
    /// Three London LAs (Camden, Greenwich, Hackney): a few hundred schools, seconds.
    Tiny,
}

/// The LAs a tiny run keeps.
const TINY_LAS: [i32; 3] = [202, 203, 204];
/// Terms of reports: six academic years.
const TERMS_OF_REPORTS: usize = 18;

/// Builds the data set over `db` (already migrated) from the census file at `census`.
pub async fn build(
    db: &Db,
    census: &Path,
    scale: Scale,
    today: NaiveDate,
) -> anyhow::Result<DataSet> {
    let bytes = std::fs::read(census)
        .with_context(|| format!("reading the census file {}", census.display()))?;
    let plan = api::dataset::Plan {
        las: (scale == Scale::Tiny).then(|| TINY_LAS.to_vec()),
        terms: TERMS_OF_REPORTS,
        submitted_by: "bench-seed",
        sound_first_cluster: false,
        vacuum: true,
    };
    api::dataset::build(db, &bytes, &plan, today, &|m| crate::log(m)).await
}
