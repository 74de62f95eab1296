//! GIAS "all establishment data" (`import-gias`, SPEC 4.1): the DfE register of every
//! establishment, which supplies what the census lacks: real names, academy status, trusts
//! and closures.
//!
//! The download has over a hundred columns whose order has changed over the years, so
//! columns are found by header name. Only the establishment type decides whether the SENCO
//! duty applies (Children and Families Act 2014, s67(1): mainstream schools and maintained
//! nursery schools), so the type mapping below is the part that matters.

use chrono::NaiveDate;

use super::table::{Header, Table, field};
use super::{Rejected, text};
use crate::domain::school::{Phase, SchoolKind};

/// One establishment as GIAS describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct GiasRow {
    /// Line in the file (the header is line 1), for the import summary.
    pub line: u64,
    pub urn: i32,
    pub la_code: i32,
    /// `LA (name)`, when the file has it; lets the importer name an LA it does not know.
    pub la_name: Option<String>,
    pub name: String,
    /// One of the [`kind`] names.
    pub kind: SchoolKind,
    /// One of the [`phase`] names.
    pub phase: Phase,
    /// True for every academy and free school type, including UTCs and studio schools.
    pub is_academy: bool,
    /// `NumberOfPupils`, from the last census GIAS holds; `None` when blank.
    pub number_on_roll: Option<i32>,
    /// The trust (GIAS group UID and name) from `Trusts (code)` and `Trusts (name)`.
    pub trust: Option<(i32, String)>,
    /// `CloseDate`, for closed schools and those proposed to close.
    pub closed_on: Option<NaiveDate>,
    /// `EstablishmentStatus` is "Open" or "Open, but proposed to close". Without that column,
    /// an establishment with no `CloseDate` is taken as open.
    pub status_open: bool,
}

/// How one GIAS establishment type maps onto a school kind.
struct EstablishmentType {
    code: i32,
    name: &'static str,
    kind: SchoolKind,
    is_academy: bool,
}

const fn establishment(
    code: i32,
    name: &'static str,
    kind: SchoolKind,
    is_academy: bool,
) -> EstablishmentType {
    EstablishmentType {
        code,
        name,
        kind,
        is_academy,
    }
}

/// Every type in `data/gias_establishment_types_20250422.csv`.
///
/// - MAINSTREAM are the "mainstream schools" of CFA 2014 s83(2): maintained schools that are
///   not special schools, and Academy schools that are not special schools. That takes in
///   free schools, university technical colleges and studio schools, which are Academy
///   schools. City technology colleges are treated as mainstream too: they are state-funded
///   all-ability schools under an agreement with the Secretary of State, much like
///   academies, though GIAS files them under independent schools and they are not an
///   academy type (so `is_academy` is false). Whether s67 reaches them is arguable; only a
///   handful remain.
/// - 16 to 19 academies (converter, sponsor led, free school, secure) are OTHER: CFA 2014
///   s66(1)(c) lists them apart from mainstream schools, so the SENCO duty of s67 does not
///   bind them, even though they are academies.
/// - Pupil referral units and alternative provision academies are ALTERNATIVE_PROVISION and
///   special schools SPECIAL, both outside s67; independent schools, special or not, are
///   INDEPENDENT.
/// - Anything else, including a type added to GIAS after this list, is OTHER.
const TYPES: [EstablishmentType; 39] = [
    establishment(1, "Community school", SchoolKind::Mainstream, false),
    establishment(2, "Voluntary aided school", SchoolKind::Mainstream, false),
    establishment(
        3,
        "Voluntary controlled school",
        SchoolKind::Mainstream,
        false,
    ),
    establishment(5, "Foundation school", SchoolKind::Mainstream, false),
    establishment(6, "City technology college", SchoolKind::Mainstream, false),
    establishment(28, "Academy sponsor led", SchoolKind::Mainstream, true),
    establishment(34, "Academy converter", SchoolKind::Mainstream, true),
    establishment(35, "Free schools", SchoolKind::Mainstream, true),
    establishment(
        40,
        "University technical college",
        SchoolKind::Mainstream,
        true,
    ),
    establishment(41, "Studio schools", SchoolKind::Mainstream, true),
    establishment(
        15,
        "Local authority nursery school",
        SchoolKind::MaintainedNursery,
        false,
    ),
    establishment(7, "Community special school", SchoolKind::Special, false),
    establishment(
        8,
        "Non-maintained special school",
        SchoolKind::Special,
        false,
    ),
    establishment(12, "Foundation special school", SchoolKind::Special, false),
    establishment(33, "Academy special sponsor led", SchoolKind::Special, true),
    establishment(44, "Academy special converter", SchoolKind::Special, true),
    establishment(36, "Free schools special", SchoolKind::Special, true),
    establishment(
        14,
        "Pupil referral unit",
        SchoolKind::AlternativeProvision,
        false,
    ),
    establishment(
        42,
        "Academy alternative provision converter",
        SchoolKind::AlternativeProvision,
        true,
    ),
    establishment(
        43,
        "Academy alternative provision sponsor led",
        SchoolKind::AlternativeProvision,
        true,
    ),
    establishment(
        38,
        "Free schools alternative provision",
        SchoolKind::AlternativeProvision,
        true,
    ),
    establishment(
        11,
        "Other independent school",
        SchoolKind::Independent,
        false,
    ),
    establishment(
        10,
        "Other independent special school",
        SchoolKind::Independent,
        false,
    ),
    establishment(45, "Academy 16-19 converter", SchoolKind::Other, true),
    establishment(46, "Academy 16 to 19 sponsor led", SchoolKind::Other, true),
    establishment(57, "Academy secure 16 to 19", SchoolKind::Other, true),
    establishment(39, "Free schools 16 to 19", SchoolKind::Other, true),
    establishment(18, "Further education", SchoolKind::Other, false),
    establishment(31, "Sixth form centres", SchoolKind::Other, false),
    establishment(
        29,
        "Higher education institutions",
        SchoolKind::Other,
        false,
    ),
    establishment(30, "Welsh establishment", SchoolKind::Other, false),
    establishment(24, "Secure units", SchoolKind::Other, false),
    establishment(25, "Offshore schools", SchoolKind::Other, false),
    establishment(26, "Service children's education", SchoolKind::Other, false),
    establishment(27, "Miscellaneous", SchoolKind::Other, false),
    establishment(32, "Special post 16 institution", SchoolKind::Other, false),
    establishment(37, "British schools overseas", SchoolKind::Other, false),
    establishment(
        56,
        "Institution funded by other government department",
        SchoolKind::Other,
        false,
    ),
    establishment(49, "Online provider", SchoolKind::Other, false),
];

/// GIAS phases. Middle schools are "deemed" primary or secondary for funding, but the SENCO
/// rules do not distinguish them, so both are MIDDLE.
const PHASES: [(&str, Phase); 8] = [
    ("Nursery", Phase::Nursery),
    ("Primary", Phase::Primary),
    ("Middle deemed primary", Phase::Middle),
    ("Middle deemed secondary", Phase::Middle),
    ("Secondary", Phase::Secondary),
    ("All-through", Phase::AllThrough),
    ("16 plus", Phase::SixteenPlus),
    ("Not applicable", Phase::NotApplicable),
];

/// A GIAS label in a form that survives the variations seen between downloads: case,
/// "All-through" written "All through" (as in the 2018 sample), and a typographic
/// apostrophe from Windows-1252 in "Service children’s education".
fn normalise(label: &str) -> String {
    let spaced: String = label
        .chars()
        .map(|c| match c {
            '-' => ' ',
            '\u{2019}' => '\'',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn type_by_name(name: &str) -> Option<&'static EstablishmentType> {
    // Nearly every row matches exactly, so the allocating comparison is only a fallback.
    let exact = TYPES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name.trim()));
    exact.or_else(|| {
        let wanted = normalise(name);
        TYPES.iter().find(|t| normalise(t.name) == wanted)
    })
}

fn type_by_code(code: i32) -> Option<&'static EstablishmentType> {
    TYPES.iter().find(|t| t.code == code)
}

fn phase_of(name: &str) -> Option<Phase> {
    let exact = PHASES
        .iter()
        .find(|(label, _)| label.eq_ignore_ascii_case(name.trim()));
    exact
        .or_else(|| {
            let wanted = normalise(name);
            PHASES.iter().find(|(label, _)| normalise(label) == wanted)
        })
        .map(|&(_, phase)| phase)
}

/// Where each column is; optional columns may be absent from a trimmed-down download.
#[derive(Clone, Copy)]
struct Columns {
    urn: usize,
    la_code: usize,
    name: usize,
    phase: usize,
    type_name: Option<usize>,
    type_code: Option<usize>,
    la_name: Option<usize>,
    status: Option<usize>,
    pupils: Option<usize>,
    trust: Option<(usize, usize)>,
    close_date: Option<usize>,
}

impl Columns {
    fn find(header: &Header) -> Result<Self, String> {
        let type_name = header.find("TypeOfEstablishment (name)");
        let type_code = header.find("TypeOfEstablishment (code)");
        let required = header.require([
            "URN",
            "LA (code)",
            "EstablishmentName",
            "PhaseOfEducation (name)",
        ]);
        let [urn, la_code, name, phase] = match (required, type_name.or(type_code)) {
            (Ok(found), Some(_)) => found,
            (Ok(_), None) => return Err(TYPE_COLUMN_MISSING.to_string()),
            (Err(missing), Some(_)) => return Err(missing),
            (Err(missing), None) => return Err(format!("{missing}; {TYPE_COLUMN_MISSING}")),
        };
        Ok(Columns {
            urn,
            la_code,
            name,
            phase,
            type_name,
            type_code,
            la_name: header.find("LA (name)"),
            status: header.find("EstablishmentStatus (name)"),
            pupils: header.find("NumberOfPupils"),
            // A trust needs both its UID and its name; a file with only one of the columns is
            // read as having no trusts rather than rejecting every academy in it.
            trust: header
                .find("Trusts (code)")
                .zip(header.find("Trusts (name)")),
            close_date: header.find("CloseDate"),
        })
    }
}

const TYPE_COLUMN_MISSING: &str =
    "header lacks both \"TypeOfEstablishment (name)\" and \"TypeOfEstablishment (code)\"";

/// Parses a whole GIAS file, in Windows-1252 or UTF-8 with or without a BOM.
///
/// `Err` only when the header lacks a column every row needs (URN, `LA (code)`,
/// `EstablishmentName`, `TypeOfEstablishment (name)` or `(code)`,
/// `PhaseOfEducation (name)`); any other problem rejects just the row it is on.
pub fn parse(bytes: &[u8]) -> Result<(Vec<GiasRow>, Vec<Rejected>), String> {
    let text = text::decode(bytes);
    let mut schools = Vec::new();
    let mut rejected = Vec::new();
    for row in rows(&text)? {
        match row {
            Ok(school) => schools.push(school),
            Err(reason) => rejected.push(reason),
        }
    }
    Ok((schools, rejected))
}

/// The rows of decoded text one at a time, for an importer that writes in batches as it
/// reads; `Err` as for [`parse`].
pub fn rows(text: &str) -> Result<impl Iterator<Item = Result<GiasRow, Rejected>> + '_, String> {
    let table = Table::open(text)?;
    let columns = Columns::find(&table.header)?;
    Ok(table.map(move |row| row.and_then(|(line, record)| read(line, &record, columns))))
}

fn read(line: u64, record: &csv::StringRecord, columns: Columns) -> Result<GiasRow, Rejected> {
    let reject = |reason: String| Rejected { line, reason };
    let optional = |column: Option<usize>| {
        column
            .map(|i| field(record, i))
            .filter(|value| !text::missing(value))
    };

    let urn =
        text::parse_code("URN", field(record, columns.urn), 100_000..=999_999).map_err(reject)?;
    let la_code =
        text::parse_code("LA (code)", field(record, columns.la_code), 100..=999).map_err(reject)?;
    let name = field(record, columns.name);
    if text::missing(name) {
        return Err(reject("EstablishmentName is missing".to_string()));
    }

    let establishment_type = match (optional(columns.type_name), optional(columns.type_code)) {
        (Some(type_name), _) => type_by_name(type_name),
        (None, Some(code)) => {
            let code =
                text::parse_code("TypeOfEstablishment (code)", code, 0..=999).map_err(reject)?;
            type_by_code(code)
        }
        (None, None) => return Err(reject("TypeOfEstablishment is missing".to_string())),
    };
    let (kind, is_academy) =
        establishment_type.map_or((SchoolKind::Other, false), |t| (t.kind, t.is_academy));

    let phase_name = field(record, columns.phase);
    let Some(phase) = phase_of(phase_name) else {
        return Err(reject(format!(
            "unknown PhaseOfEducation (name) \"{phase_name}\""
        )));
    };

    let number_on_roll = match optional(columns.pupils) {
        Some(pupils) => text::parse_count("NumberOfPupils", pupils).map_err(reject)?,
        None => None,
    };

    let trust = match columns.trust {
        Some((code_column, name_column)) => {
            read_trust(field(record, code_column), field(record, name_column)).map_err(reject)?
        }
        None => None,
    };

    let closed_on = match columns.close_date {
        Some(i) => {
            text::parse_dmy(field(record, i)).map_err(|e| reject(format!("CloseDate {e}")))?
        }
        None => None,
    };

    let status_open = match optional(columns.status) {
        // "Open" and "Open, but proposed to close"; not "Closed" or "Proposed to open".
        Some(status) => normalise(status).starts_with("open"),
        None => closed_on.is_none(),
    };

    Ok(GiasRow {
        line,
        urn,
        la_code,
        la_name: optional(columns.la_name).map(str::to_string),
        name: name.to_string(),
        kind,
        phase,
        is_academy,
        number_on_roll,
        trust,
        closed_on,
        status_open,
    })
}

/// A trust is all or nothing: a UID without a name (or the reverse) is a broken row, and
/// guessing either half would attach the school to the wrong trust or invent a name.
fn read_trust(code: &str, name: &str) -> Result<Option<(i32, String)>, String> {
    match (text::missing(code), text::missing(name)) {
        (true, true) => Ok(None),
        (false, false) => {
            let uid = text::parse_code("Trusts (code)", code, 1..=i32::MAX)?;
            Ok(Some((uid, name.to_string())))
        }
        (false, true) => Err(format!("Trusts (code) \"{code}\" has no Trusts (name)")),
        (true, false) => Err(format!("Trusts (name) \"{name}\" has no Trusts (code)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "URN,LA (code),LA (name),EstablishmentName,TypeOfEstablishment (code),\
        TypeOfEstablishment (name),EstablishmentStatus (name),CloseDate,PhaseOfEducation (name),\
        NumberOfPupils,Trusts (code),Trusts (name)\n";

    fn one(row: &str) -> Result<GiasRow, Rejected> {
        let text = format!("{HEADER}{row}\n");
        let mut rows: Vec<_> = rows(&text).unwrap().collect();
        assert_eq!(rows.len(), 1);
        rows.remove(0)
    }

    #[test]
    fn an_academy_in_a_trust_reads_fully() {
        let row = one(
            "137000,886,Kent,Oak Academy,34,Academy converter,Open,,Secondary,1200,\
             2044,Oak Learning Trust",
        )
        .unwrap();
        assert_eq!(
            row,
            GiasRow {
                line: 2,
                urn: 137_000,
                la_code: 886,
                la_name: Some("Kent".into()),
                name: "Oak Academy".into(),
                kind: SchoolKind::Mainstream,
                phase: Phase::Secondary,
                is_academy: true,
                number_on_roll: Some(1200),
                trust: Some((2044, "Oak Learning Trust".into())),
                closed_on: None,
                status_open: true,
            }
        );
    }

    #[test]
    fn a_closed_school_has_its_close_date_and_is_not_open() {
        let row = one(
            "100001,201,City of London,Old School,1,Community school,Closed,31-08-2016,Primary,,,",
        )
        .unwrap();
        assert_eq!(row.closed_on, NaiveDate::from_ymd_opt(2016, 8, 31));
        assert!(!row.status_open);
        assert_eq!(row.number_on_roll, None);
    }

    #[test]
    fn proposed_to_close_is_still_open_and_proposed_to_open_is_not() {
        let closing = one(
            "100002,201,City of London,A,1,Community school,\"Open, but proposed to close\",\
             31-08-2026,Primary,10,,",
        )
        .unwrap();
        assert!(closing.status_open);
        let opening =
            one("100003,201,City of London,B,35,Free schools,Proposed to open,,Primary,,,")
                .unwrap();
        assert!(!opening.status_open);
    }

    #[test]
    fn maintained_schools_and_mainstream_academies_are_mainstream() {
        for name in [
            "Community school",
            "Voluntary aided school",
            "Voluntary controlled school",
            "Foundation school",
            "City technology college",
            "Academy sponsor led",
            "Academy converter",
            "Free schools",
            "University technical college",
            "Studio schools",
        ] {
            assert_eq!(
                type_by_name(name).map(|t| t.kind),
                Some(SchoolKind::Mainstream),
                "{name}"
            );
        }
    }

    #[test]
    fn la_nursery_schools_are_maintained_nurseries() {
        let t = type_by_name("Local authority nursery school").unwrap();
        assert_eq!(
            (t.kind, t.is_academy),
            (SchoolKind::MaintainedNursery, false)
        );
    }

    #[test]
    fn special_schools_of_every_funding_are_special_except_independent_ones() {
        for name in [
            "Community special school",
            "Foundation special school",
            "Non-maintained special school",
            "Academy special sponsor led",
            "Academy special converter",
            "Free schools special",
        ] {
            assert_eq!(
                type_by_name(name).map(|t| t.kind),
                Some(SchoolKind::Special),
                "{name}"
            );
        }
        let independent_special = type_by_name("Other independent special school").unwrap();
        assert_eq!(independent_special.kind, SchoolKind::Independent);
    }

    #[test]
    fn pupil_referral_units_and_ap_academies_are_alternative_provision() {
        for name in [
            "Pupil referral unit",
            "Academy alternative provision converter",
            "Academy alternative provision sponsor led",
            "Free schools alternative provision",
        ] {
            let t = type_by_name(name).unwrap();
            assert_eq!(t.kind, SchoolKind::AlternativeProvision, "{name}");
        }
    }

    #[test]
    fn sixteen_to_nineteen_academies_are_academies_outside_the_senco_duty() {
        for name in [
            "Academy 16-19 converter",
            "Academy 16 to 19 sponsor led",
            "Academy secure 16 to 19",
            "Free schools 16 to 19",
        ] {
            let t = type_by_name(name).unwrap();
            assert_eq!((t.kind, t.is_academy), (SchoolKind::Other, true), "{name}");
        }
    }

    #[test]
    fn every_academy_and_free_school_type_is_an_academy() {
        for t in &TYPES {
            let academy_by_name = t.name.starts_with("Academy")
                || t.name.starts_with("Free schools")
                || t.name == "University technical college"
                || t.name == "Studio schools";
            assert_eq!(t.is_academy, academy_by_name, "{}", t.name);
        }
    }

    #[test]
    fn colleges_overseas_welsh_and_unknown_types_are_other() {
        for name in [
            "Further education",
            "Welsh establishment",
            "Secure units",
            "British schools overseas",
            "Online provider",
            "Service children\u{2019}s education",
        ] {
            assert_eq!(
                type_by_name(name).map(|t| t.kind),
                Some(SchoolKind::Other),
                "{name}"
            );
        }
        let row = one("100004,201,City of London,C,47,Children's centre,Open,,Not applicable,,,")
            .unwrap();
        assert_eq!((row.kind, row.is_academy), (SchoolKind::Other, false));
    }

    #[test]
    fn the_type_list_matches_the_gias_reference_file() {
        let reference = include_str!("../../../data/gias_establishment_types_20250422.csv");
        let mut codes = std::collections::BTreeMap::new();
        for line in reference.lines().skip(1) {
            let cells: Vec<&str> = line.splitn(5, ',').collect();
            codes.insert(cells[2].parse::<i32>().unwrap(), cells[3].to_string());
        }
        assert_eq!(codes.len(), TYPES.len());
        for (code, name) in codes {
            assert_eq!(
                type_by_code(code).map(|t| t.name),
                Some(name.as_str()),
                "{code}"
            );
        }
    }

    #[test]
    fn the_type_code_is_used_when_the_name_is_absent() {
        let text = "URN,LA (code),EstablishmentName,TypeOfEstablishment (code),PhaseOfEducation (name)\n\
            100005,202,D,02,Primary\n";
        let row = rows(text).unwrap().next().unwrap().unwrap();
        assert_eq!((row.kind, row.is_academy), (SchoolKind::Mainstream, false));
        assert_eq!(
            (row.la_name, row.trust, row.status_open),
            (None, None, true)
        );
    }

    #[test]
    fn every_gias_phase_maps_and_all_through_is_read_with_or_without_hyphen() {
        assert_eq!(phase_of("Nursery"), Some(Phase::Nursery));
        assert_eq!(phase_of("Primary"), Some(Phase::Primary));
        assert_eq!(phase_of("Middle deemed primary"), Some(Phase::Middle));
        assert_eq!(phase_of("Middle deemed secondary"), Some(Phase::Middle));
        assert_eq!(phase_of("Secondary"), Some(Phase::Secondary));
        assert_eq!(phase_of("All-through"), Some(Phase::AllThrough));
        assert_eq!(phase_of("All through"), Some(Phase::AllThrough));
        assert_eq!(phase_of("16 plus"), Some(Phase::SixteenPlus));
        assert_eq!(phase_of("Not applicable"), Some(Phase::NotApplicable));
        assert_eq!(phase_of("Infant"), None);
    }

    #[test]
    fn an_unknown_phase_is_rejected_naming_it() {
        let err =
            one("100006,201,City of London,E,1,Community school,Open,,Infant,,,").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.reason.contains("\"Infant\""), "{err:?}");
    }

    #[test]
    fn a_trust_uid_without_a_name_is_rejected() {
        let err = one("100007,201,City of London,F,34,Academy converter,Open,,Primary,,2044,")
            .unwrap_err();
        assert!(err.reason.contains("Trusts (code) \"2044\""), "{err:?}");
    }

    #[test]
    fn a_non_numeric_trust_uid_is_rejected() {
        let err =
            one("100008,201,City of London,G,34,Academy converter,Open,,Primary,,TR01234,Oak")
                .unwrap_err();
        assert!(err.reason.starts_with("Trusts (code)"), "{err:?}");
    }

    #[test]
    fn missing_markers_in_optional_columns_read_as_absent() {
        let row = one("100009,201,NA,H,1,Community school,Open,NA,Primary,x,z,NA").unwrap();
        assert_eq!(
            (row.la_name, row.number_on_roll, row.trust, row.closed_on),
            (None, None, None, None)
        );
    }

    #[test]
    fn a_bad_close_date_is_rejected_naming_the_column() {
        let err =
            one("100010,201,City of London,I,1,Community school,Closed,2016-08-31,Primary,,,")
                .unwrap_err();
        assert!(err.reason.starts_with("CloseDate"), "{err:?}");
    }

    #[test]
    fn a_broken_urn_is_rejected_and_the_rest_still_read() {
        let text = format!(
            "{HEADER}10O492,207,K,J,2,Voluntary aided school,Open,,Primary,237,,\n\
             100492,207,K,J,2,Voluntary aided school,Open,,Primary,237,,\n"
        );
        let (schools, rejected) = parse(text.as_bytes()).unwrap();
        assert_eq!(schools.len(), 1);
        assert_eq!(schools[0].line, 3);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, 2);
        assert!(
            rejected[0].reason.starts_with("URN \"10O492\""),
            "{rejected:?}"
        );
    }

    #[test]
    fn windows_1252_names_are_decoded() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(
            b"100011,207,K,St Thomas \xE0 Becket Primary,2,Voluntary aided school,Open,,Primary,,,\n",
        );
        let (schools, _) = parse(&bytes).unwrap();
        assert_eq!(schools[0].name, "St Thomas à Becket Primary");
    }

    #[test]
    fn a_header_missing_required_columns_is_an_error_listing_them() {
        let err = parse(b"URN,LA (code),EstablishmentName\n100000,201,A\n").unwrap_err();
        assert!(err.contains("\"PhaseOfEducation (name)\""), "{err}");
        assert!(err.contains("TypeOfEstablishment"), "{err}");
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert!(parse(b"").is_err());
    }
}
