//! The DfE performance-tables census file (`import-census`, SPEC 4.1): one row per school in
//! England with its pupils on roll and its pupils with an EHC plan or on SEN support.
//!
//! The file names no schools and says nothing of academy status or trusts; those come from
//! a GIAS import, which may run before or after this one. What the census does give is
//! every school's URN, LA and type, which is enough to create the school.

use chrono::NaiveDate;

use super::table::{Header, Table, field};
use super::{Rejected, text};
use crate::domain::school::{Phase, SchoolKind};

/// One school as the census describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CensusRow {
    /// Line in the file (the header is line 1), for the import summary.
    pub line: u64,
    pub urn: i32,
    pub la_code: i32,
    /// The DfE establishment number within the LA (`ESTAB`), when given.
    pub estab: Option<i32>,
    /// One of the [`kind`] names.
    pub kind: SchoolKind,
    /// One of the [`phase`] names.
    pub phase: Phase,
    /// Always false: the census does not say which schools are academies, so a school
    /// created from it is taken as maintained until GIAS says otherwise.
    pub is_academy: bool,
    /// Pupils on roll (`NOR`); `None` when the file has `NA`.
    pub number_on_roll: Option<i32>,
    /// Pupils with an EHC plan, census SEN provision code E (`TSENELSE`).
    pub ehcp: Option<i32>,
    /// Pupils on SEN support, census SEN provision code K (`TSENELK`).
    pub sen_support: Option<i32>,
}

/// The census day of the collection the file very probably comes from. The file itself is
/// not dated; its provenance (`data/README.md`) makes it the January 2019 school census,
/// whose census day was Thursday 17 January 2019, so its figures are "as of" that day.
const COLLECTED_ON: NaiveDate = match NaiveDate::from_ymd_opt(2019, 1, 17) {
    Some(date) => date,
    // Evaluated at compile time: a wrong literal fails the build, never a running server.
    None => panic!("the census day is not a valid date"),
};

/// The day the census figures describe: 17 January 2019 (see `COLLECTED_ON`).
pub fn collected_on() -> NaiveDate {
    COLLECTED_ON
}

/// Reason given for the three national-total rows at the end of the file.
pub const NATIONAL_TOTAL: &str = "national total row, not a school";

/// Columns the census rows are read from, found by header name.
#[derive(Clone, Copy)]
struct Columns {
    urn: usize,
    la: usize,
    estab: usize,
    school_type: usize,
    nor: usize,
    ehcp: usize,
    sen_support: usize,
}

impl Columns {
    fn find(header: &Header) -> Result<Self, String> {
        let [urn, la, estab, school_type, nor, ehcp, sen_support] = header.require([
            "URN",
            "LA",
            "ESTAB",
            "SCHOOLTYPE",
            "NOR",
            "TSENELSE",
            "TSENELK",
        ])?;
        Ok(Columns {
            urn,
            la,
            estab,
            school_type,
            nor,
            ehcp,
            sen_support,
        })
    }
}

/// Parses the whole file: the schools, and the rows that could not be used.
///
/// Takes text, not bytes: decode the file with [`text::decode_utf8`] first (a leading BOM is
/// tolerated either way). A header without the needed columns rejects the file as a whole,
/// reported as line 1.
pub fn parse(text: &str) -> (Vec<CensusRow>, Vec<Rejected>) {
    let mut schools = Vec::new();
    let mut rejected = Vec::new();
    for row in rows(text) {
        match row {
            Ok(school) => schools.push(school),
            Err(reason) => rejected.push(reason),
        }
    }
    (schools, rejected)
}

/// The rows one at a time, in file order, for an importer that writes in batches as it reads.
pub fn rows(text: &str) -> impl Iterator<Item = Result<CensusRow, Rejected>> + '_ {
    let opened = Table::open(text).and_then(|table| {
        let columns = Columns::find(&table.header)?;
        Ok((table, columns))
    });
    let (table, header_error) = match opened {
        Ok(found) => (Some(found), None),
        Err(reason) => (None, Some(Rejected { line: 1, reason })),
    };
    header_error
        .map(Err)
        .into_iter()
        .chain(table.into_iter().flat_map(|(table, columns)| {
            table.map(move |row| row.and_then(|(line, record)| read(line, &record, columns)))
        }))
}

fn read(line: u64, record: &csv::StringRecord, columns: Columns) -> Result<CensusRow, Rejected> {
    let reject = |reason: String| Rejected { line, reason };
    let urn = field(record, columns.urn);
    if urn == "NAT" {
        return Err(reject(NATIONAL_TOTAL.to_string()));
    }
    let urn = text::parse_code("URN", urn, 100_000..=999_999).map_err(reject)?;
    let la_code = text::parse_code("LA", field(record, columns.la), 100..=999).map_err(reject)?;
    let estab = match field(record, columns.estab) {
        estab if text::missing(estab) => None,
        estab => Some(text::parse_code("ESTAB", estab, 1000..=9999).map_err(reject)?),
    };
    let school_type = field(record, columns.school_type);
    let Some((kind, phase)) = kind_and_phase(school_type) else {
        return Err(reject(format!("unknown SCHOOLTYPE \"{school_type}\"")));
    };
    let count = |column: &str, index: usize| text::parse_count(column, field(record, index));
    Ok(CensusRow {
        line,
        urn,
        la_code,
        estab,
        kind,
        phase,
        is_academy: false,
        number_on_roll: count("NOR", columns.nor).map_err(reject)?,
        ehcp: count("TSENELSE", columns.ehcp).map_err(reject)?,
        sen_support: count("TSENELK", columns.sen_support).map_err(reject)?,
    })
}

/// The census's seven school types. Middle and all-through schools have no type of their own
/// here and appear under primary or secondary; a GIAS import corrects their phase.
fn kind_and_phase(school_type: &str) -> Option<(SchoolKind, Phase)> {
    const TYPES: [(&str, SchoolKind, Phase); 7] = [
        (
            "State-funded primary",
            SchoolKind::Mainstream,
            Phase::Primary,
        ),
        (
            "State-funded secondary",
            SchoolKind::Mainstream,
            Phase::Secondary,
        ),
        (
            "State-funded nursery",
            SchoolKind::MaintainedNursery,
            Phase::Nursery,
        ),
        (
            "State-funded special school",
            SchoolKind::Special,
            Phase::NotApplicable,
        ),
        (
            "Non-maintained special school",
            SchoolKind::Special,
            Phase::NotApplicable,
        ),
        (
            "Pupil referral unit",
            SchoolKind::AlternativeProvision,
            Phase::NotApplicable,
        ),
        (
            "Independent school",
            SchoolKind::Independent,
            Phase::NotApplicable,
        ),
    ];
    TYPES
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(school_type.trim()))
        .map(|&(_, kind, phase)| (kind, phase))
}

/// A placeholder name for a school created from the census, such as
/// "Primary school 100000 (Camden)".
///
/// The census has no names, but a school needs one. This one is deliberately unlike a real
/// school name, so nobody mistakes it for one, and stable (the same inputs always give the
/// same name), so re-running the census import changes nothing. A GIAS import replaces it
/// with the real name.
pub fn made_up_name(urn: i32, la_name: &str, kind: SchoolKind, phase: Phase) -> String {
    let label = match (kind, phase) {
        (SchoolKind::MaintainedNursery, _) | (SchoolKind::Mainstream, Phase::Nursery) => {
            "Nursery school"
        }
        (SchoolKind::Mainstream, Phase::Primary) => "Primary school",
        (SchoolKind::Mainstream, Phase::Middle) => "Middle school",
        (SchoolKind::Mainstream, Phase::Secondary) => "Secondary school",
        (SchoolKind::Mainstream, Phase::AllThrough) => "All-through school",
        (SchoolKind::Mainstream, Phase::SixteenPlus) => "Sixth form",
        (SchoolKind::Mainstream, _) => "School",
        (SchoolKind::Special, _) => "Special school",
        (SchoolKind::AlternativeProvision, _) => "Alternative provision",
        (SchoolKind::Independent, _) => "Independent school",
        _ => "Establishment",
    };
    format!("{label} {urn} ({la_name})")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "\u{feff}URN,LA,ESTAB,SCHOOLTYPE,NOR,NORG,NORB,PNORG,PNORB,TSENELSE,\
        PSENELSE,TSENELK,PSENELK,NUMEAL,NUMENGFL,NUMUNCFL,PNUMEAL,PNUMENGFL,PNUMUNCFL,NUMFSM,\
        NUMFSMEVER,PNUMFSMEVER\n";
    const PRIMARY: &str = "100000,201,3614,State-funded primary,285,141,144,49.5,50.5,5,1.8,\
        50,17.5,141,143,1,49.5,50.2,0.4,32,38,16.2\n";
    const INDEPENDENT: &str = "100001,201,6005,Independent school,752,752,0,100,0,0,0,58,7.7,NA,NA,NA,NA,NA,NA,NA,NA,NA\n";

    fn file(rows: &[&str]) -> String {
        let mut text = HEADER.to_string();
        for row in rows {
            text.push_str(row);
        }
        text
    }

    #[test]
    fn a_school_row_gives_urn_la_type_and_sen_counts() {
        let (schools, rejected) = parse(&file(&[PRIMARY]));
        assert_eq!(rejected, vec![]);
        assert_eq!(
            schools,
            vec![CensusRow {
                line: 2,
                urn: 100_000,
                la_code: 201,
                estab: Some(3614),
                kind: SchoolKind::Mainstream,
                phase: Phase::Primary,
                is_academy: false,
                number_on_roll: Some(285),
                ehcp: Some(5),
                sen_support: Some(50),
            }]
        );
    }

    #[test]
    fn na_counts_become_none() {
        let row = "100002,201,1100,Pupil referral unit,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,\
            NA,NA,NA,NA,NA\n";
        let (schools, _) = parse(&file(&[row]));
        assert_eq!(schools[0].number_on_roll, None);
        assert_eq!(schools[0].ehcp, None);
        assert_eq!(schools[0].sen_support, None);
        assert_eq!(schools[0].kind, SchoolKind::AlternativeProvision);
    }

    #[test]
    fn every_census_school_type_has_a_kind_and_phase() {
        let expected = [
            (
                "State-funded primary",
                SchoolKind::Mainstream,
                Phase::Primary,
            ),
            (
                "State-funded secondary",
                SchoolKind::Mainstream,
                Phase::Secondary,
            ),
            (
                "State-funded nursery",
                SchoolKind::MaintainedNursery,
                Phase::Nursery,
            ),
            (
                "State-funded special school",
                SchoolKind::Special,
                Phase::NotApplicable,
            ),
            (
                "Non-maintained special school",
                SchoolKind::Special,
                Phase::NotApplicable,
            ),
            (
                "Pupil referral unit",
                SchoolKind::AlternativeProvision,
                Phase::NotApplicable,
            ),
            (
                "Independent school",
                SchoolKind::Independent,
                Phase::NotApplicable,
            ),
        ];
        for (school_type, kind, phase) in expected {
            assert_eq!(
                kind_and_phase(school_type),
                Some((kind, phase)),
                "{school_type}"
            );
        }
    }

    #[test]
    fn national_total_rows_are_rejected_as_not_schools() {
        let nat = "NAT,,PRI,State-funded primary,4727089,2318560,2408528,49,51,74404,1.6,595708,\
            12.6,1002292,3716282,8515,21.2,78.6,0.2,745453,1018995,23\n";
        let (schools, rejected) = parse(&file(&[PRIMARY, nat]));
        assert_eq!(schools.len(), 1);
        assert_eq!(
            rejected,
            vec![Rejected {
                line: 3,
                reason: NATIONAL_TOTAL.to_string()
            }]
        );
    }

    #[test]
    fn an_unknown_school_type_is_rejected_naming_the_value() {
        let row = PRIMARY.replace("State-funded primary", "Academy (probably)");
        let (_, rejected) = parse(&file(&[&row]));
        assert_eq!(rejected[0].line, 2);
        assert!(
            rejected[0].reason.contains("\"Academy (probably)\""),
            "{rejected:?}"
        );
    }

    #[test]
    fn a_malformed_urn_or_la_is_rejected_with_its_line() {
        let bad_urn = PRIMARY.replace("100000", "10000O");
        let bad_la = INDEPENDENT.replace(",201,", ",2x1,");
        let (schools, rejected) = parse(&file(&[PRIMARY, &bad_urn, &bad_la]));
        assert_eq!(schools.len(), 1);
        assert_eq!(rejected.len(), 2);
        assert_eq!(rejected[0].line, 3);
        assert!(
            rejected[0].reason.starts_with("URN \"10000O\""),
            "{rejected:?}"
        );
        assert_eq!(rejected[1].line, 4);
        assert!(rejected[1].reason.starts_with("LA \"2x1\""), "{rejected:?}");
    }

    #[test]
    fn a_negative_or_decimal_count_is_rejected() {
        let row = PRIMARY.replace(",285,", ",-285,");
        let (_, rejected) = parse(&file(&[&row]));
        assert!(rejected[0].reason.starts_with("NOR"), "{rejected:?}");
    }

    #[test]
    fn a_row_of_the_wrong_width_is_rejected_and_reading_goes_on() {
        let (schools, rejected) = parse(&file(&["100003,201,3615\n", PRIMARY]));
        assert_eq!(schools.len(), 1);
        assert_eq!(rejected[0].line, 2);
        assert!(rejected[0].reason.contains("3 fields"), "{rejected:?}");
    }

    #[test]
    fn columns_are_found_by_name_not_position() {
        let text = "NOR,TSENELK,TSENELSE,SCHOOLTYPE,ESTAB,LA,URN\n10,2,1,State-funded nursery,1000,202,100500\n";
        let (schools, rejected) = parse(text);
        assert_eq!(rejected, vec![]);
        assert_eq!(schools[0].urn, 100_500);
        assert_eq!(
            (schools[0].ehcp, schools[0].sen_support),
            (Some(1), Some(2))
        );
        assert_eq!(schools[0].kind, SchoolKind::MaintainedNursery);
    }

    #[test]
    fn a_header_without_needed_columns_rejects_the_file_at_line_1() {
        let (schools, rejected) = parse("URN,LA,SCHOOLTYPE\n100000,201,State-funded primary\n");
        assert_eq!(schools, vec![]);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, 1);
        assert!(rejected[0].reason.contains("\"TSENELSE\""), "{rejected:?}");
    }

    #[test]
    fn an_empty_file_is_one_rejection_not_a_panic() {
        let (schools, rejected) = parse("");
        assert_eq!(schools, vec![]);
        assert_eq!(rejected[0].line, 1);
    }

    #[test]
    fn census_day_is_17_january_2019() {
        assert_eq!(
            collected_on(),
            NaiveDate::from_ymd_opt(2019, 1, 17).unwrap()
        );
        assert_eq!(collected_on().format("%A").to_string(), "Thursday");
    }

    #[test]
    fn made_up_names_say_what_the_school_is_and_where() {
        assert_eq!(
            made_up_name(100_000, "Camden", SchoolKind::Mainstream, Phase::Primary),
            "Primary school 100000 (Camden)"
        );
        assert_eq!(
            made_up_name(
                101_234,
                "Dorset (pre-2019)",
                SchoolKind::Special,
                Phase::NotApplicable
            ),
            "Special school 101234 (Dorset (pre-2019))"
        );
        assert_eq!(
            made_up_name(
                100_010,
                "Hackney",
                SchoolKind::MaintainedNursery,
                Phase::Nursery
            ),
            "Nursery school 100010 (Hackney)"
        );
    }

    #[test]
    fn made_up_names_are_stable_and_distinct_per_urn() {
        let a = made_up_name(100_000, "Camden", SchoolKind::Mainstream, Phase::Secondary);
        assert_eq!(
            a,
            made_up_name(100_000, "Camden", SchoolKind::Mainstream, Phase::Secondary)
        );
        assert_ne!(
            a,
            made_up_name(100_001, "Camden", SchoolKind::Mainstream, Phase::Secondary)
        );
    }
}
