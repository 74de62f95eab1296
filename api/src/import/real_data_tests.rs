//! The parsers against the real DfE files shipped in `data/`. Every expected number here was
//! counted independently of this code (awk and Python over the same files), so a change in
//! any count means the parser now reads the data differently.

use chrono::NaiveDate;

use super::{Rejected, census, gias, la_codes, links, text};
use crate::domain::school::{Phase, SchoolKind};

const CENSUS: &[u8] = include_bytes!("../../../data/england_census_performance_tables.csv");
const GIAS_SAMPLE: &[u8] = include_bytes!("../../../data/gias_edubase_sample_2018.csv");
const LINKS: &[u8] = include_bytes!("../../../data/gias_links_20250422.csv");

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn census() -> (Vec<census::CensusRow>, Vec<Rejected>) {
    census::parse(&text::decode(CENSUS))
}

#[test]
fn census_has_23939_schools_and_rejects_only_the_three_national_rows() {
    let (schools, rejected) = census();
    assert_eq!(schools.len(), 23_939);
    let national = |line| Rejected {
        line,
        reason: census::NATIONAL_TOTAL.to_string(),
    };
    assert_eq!(
        rejected,
        vec![national(23_941), national(23_942), national(23_943)]
    );
}

#[test]
fn census_lines_count_the_header_as_line_1() {
    let (schools, _) = census();
    assert_eq!((schools[0].line, schools[0].urn), (2, 100_000));
    let last = &schools[schools.len() - 1];
    assert_eq!((last.line, last.urn, last.la_code), (23_940, 146_827, 928));
}

#[test]
fn census_school_types_break_down_as_published() {
    let (schools, _) = census();
    let count = |kind: SchoolKind, phase: Phase| {
        schools
            .iter()
            .filter(|s| s.kind == kind && s.phase == phase)
            .count()
    };
    assert_eq!(count(SchoolKind::Mainstream, Phase::Primary), 16_769);
    assert_eq!(count(SchoolKind::Mainstream, Phase::Secondary), 3_448);
    assert_eq!(count(SchoolKind::Independent, Phase::NotApplicable), 1_935);
    // State-funded special schools (986) and non-maintained special schools (58).
    assert_eq!(count(SchoolKind::Special, Phase::NotApplicable), 986 + 58);
    assert_eq!(count(SchoolKind::MaintainedNursery, Phase::Nursery), 391);
    assert_eq!(
        count(SchoolKind::AlternativeProvision, Phase::NotApplicable),
        352
    );
    assert!(schools.iter().all(|s| !s.is_academy));
}

#[test]
fn census_camden_has_93_schools_with_known_totals() {
    let (schools, _) = census();
    let camden: Vec<_> = schools.iter().filter(|s| s.la_code == 202).collect();
    assert_eq!(camden.len(), 93);
    let sum =
        |f: fn(&census::CensusRow) -> Option<i32>| camden.iter().filter_map(|s| f(s)).sum::<i32>();
    assert_eq!(sum(|s| s.number_on_roll), 32_307);
    assert_eq!(sum(|s| s.ehcp), 1_042);
    assert_eq!(sum(|s| s.sen_support), 3_910);
}

#[test]
fn census_na_counts_are_none() {
    let (schools, _) = census();
    assert_eq!(
        schools
            .iter()
            .filter(|s| s.number_on_roll.is_none())
            .count(),
        45
    );
    assert_eq!(schools.iter().filter(|s| s.ehcp.is_none()).count(), 49);
    assert_eq!(
        schools.iter().filter(|s| s.sen_support.is_none()).count(),
        47
    );
    let total: i64 = schools
        .iter()
        .filter_map(|s| s.number_on_roll)
        .map(i64::from)
        .sum();
    assert_eq!(total, 8_761_470);
}

#[test]
fn census_uses_pre_2019_dorset_codes_which_the_embedded_la_list_supplies() {
    let (schools, _) = census();
    let in_la = |code| schools.iter().filter(|s| s.la_code == code).count();
    assert_eq!((in_la(835), in_la(836), in_la(837)), (197, 46, 48));
    assert_eq!((in_la(838), in_la(839)), (0, 0));
    let las = la_codes::embedded();
    let unknown: Vec<i32> = schools
        .iter()
        .map(|s| s.la_code)
        .filter(|code| !las.iter().any(|la| la.code == *code))
        .collect();
    assert_eq!(unknown, Vec::<i32>::new());
}

#[test]
fn census_row_with_a_broken_urn_is_rejected_with_its_line_number() {
    let text = text::decode(CENSUS).replacen("\n100000,201,", "\n1000OO,201,", 1);
    let (schools, rejected) = census::parse(&text);
    assert_eq!(schools.len(), 23_938);
    assert_eq!(rejected.len(), 4);
    assert_eq!(rejected[0].line, 2);
    assert_eq!(
        rejected[0].reason,
        "URN \"1000OO\" is not a code between 100000 and 999999"
    );
}

#[test]
fn gias_sample_rows_map_to_names_kinds_and_phases() {
    let (schools, rejected) = gias::parse(GIAS_SAMPLE).unwrap();
    assert_eq!(rejected, vec![]);
    let summary: Vec<_> = schools
        .iter()
        .map(|s| {
            (
                s.line,
                s.urn,
                s.la_code,
                s.name.as_str(),
                s.kind,
                s.phase,
                s.number_on_roll,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                2,
                100_492,
                207,
                "St Thomas' CofE Primary School",
                SchoolKind::Mainstream,
                Phase::Primary,
                Some(237)
            ),
            (
                3,
                100_459,
                206,
                "St Aloysius RC College",
                SchoolKind::Mainstream,
                Phase::Secondary,
                Some(1104)
            ),
            (
                4,
                100_494,
                207,
                "Saint Francis of Assisi Catholic Primary School",
                SchoolKind::Mainstream,
                Phase::Primary,
                Some(225)
            ),
            (
                5,
                100_171,
                203,
                "Saint Mary Magdalene Church of England All Through School",
                SchoolKind::Mainstream,
                // The 2018 download spells the phase "All through"; today's says "All-through".
                Phase::AllThrough,
                Some(952)
            ),
        ]
    );
}

#[test]
fn gias_sample_schools_are_open_maintained_and_outside_any_trust() {
    let (schools, _) = gias::parse(GIAS_SAMPLE).unwrap();
    for school in &schools {
        assert!(school.status_open, "{}", school.name);
        assert!(!school.is_academy, "{}", school.name);
        assert_eq!(
            (&school.trust, school.closed_on),
            (&None, None),
            "{}",
            school.name
        );
    }
    assert_eq!(
        schools[0].la_name.as_deref(),
        Some("Kensington and Chelsea")
    );
    assert_eq!(schools[3].la_name.as_deref(), Some("Greenwich"));
}

#[test]
fn gias_sample_reads_the_same_as_windows_1252_with_a_bom_or_with_crlf() {
    let (plain, _) = gias::parse(GIAS_SAMPLE).unwrap();
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(GIAS_SAMPLE);
    let crlf = String::from_utf8_lossy(GIAS_SAMPLE).replace('\n', "\r\n");
    assert_eq!(gias::parse(&with_bom).unwrap().0, plain);
    assert_eq!(gias::parse(crlf.as_bytes()).unwrap().0, plain);
}

#[test]
fn gias_sample_with_a_trust_and_a_closure_reads_them() {
    // The sample schools are all maintained, so give the first one a trust and a closure by
    // editing its real row; every other column stays as the DfE published it.
    let text = String::from_utf8_lossy(GIAS_SAMPLE).replacen(
        "\"Voluntary aided school\",\"4\",\"LA maintained schools\",\"1\",\"Open\",\"00\",\"Not applicable\",\"\",\"00\",\"Not applicable\",\"\"",
        "\"Academy converter\",\"10\",\"Academies\",\"2\",\"Closed\",\"00\",\"Not applicable\",\"\",\"00\",\"Not applicable\",\"31-08-2019\"",
        1,
    );
    let text = text.replacen(
        "\"0\",\"Not applicable\",\"\",\"\",",
        "\"0\",\"Not applicable\",\"2044\",\"Oak Trust\",",
        1,
    );
    let (schools, rejected) = gias::parse(text.as_bytes()).unwrap();
    assert_eq!(rejected, vec![]);
    let school = &schools[0];
    assert_eq!(
        (school.urn, school.kind, school.is_academy),
        (100_492, SchoolKind::Mainstream, true)
    );
    assert_eq!(school.trust, Some((2044, "Oak Trust".to_string())));
    assert_eq!(
        (school.closed_on, school.status_open),
        (date(2019, 8, 31), false)
    );
}

#[test]
fn links_file_reads_every_row() {
    let (rows, rejected) = links::parse(LINKS);
    assert_eq!(rejected, vec![]);
    assert_eq!(rows.len(), 33_801);
    assert_eq!(
        rows.iter().filter(|r| r.established_on.is_none()).count(),
        8_253
    );
    assert_eq!(
        rows[0],
        links::LinkRow {
            line: 2,
            urn: 100_006,
            link_urn: 134_643,
            link_type: "Predecessor - merged".to_string(),
            established_on: date(2022, 1, 1),
        }
    );
}

#[test]
fn links_file_link_types_break_down_as_documented() {
    let (rows, _) = links::parse(LINKS);
    let count = |t: &str| rows.iter().filter(|r| r.link_type == t).count();
    let expected = [
        ("Successor", 16_451),
        ("Predecessor", 16_264),
        ("Predecessor - merged", 230),
        ("Successor - merged", 184),
        ("Sixth Form Centre School", 135),
        ("Predecessor - amalgamated", 123),
        ("Result of Amalgamation", 111),
        ("Successor - amalgamated", 110),
        ("Sixth Form Centre Link", 57),
        ("Successor - Split School", 48),
        ("Predecessor - Split School", 44),
        ("Other", 15),
        (
            "Merged - expansion in school capacity and changer in age range",
            9,
        ),
        ("Merged - change in age range", 9),
        ("Merged - expansion of school capacity", 5),
        ("Expansion", 3),
        ("Closure", 3),
    ];
    for (link_type, rows_of_type) in expected {
        assert_eq!(count(link_type), rows_of_type, "{link_type}");
    }
    assert_eq!(expected.iter().map(|(_, n)| n).sum::<usize>(), rows.len());
}

#[test]
fn links_file_gives_16834_successions_and_10_contradictions() {
    let (rows, _) = links::parse(LINKS);
    let pairs = links::predecessor_pairs(&rows);
    assert_eq!(pairs.len(), 16_834);
    let contradictions = links::contradictions(&rows);
    assert_eq!(contradictions.len(), 10);
    assert!(contradictions.contains(&(114_704, 114_705)));
    assert!(
        !pairs
            .iter()
            .any(|&(s, p, _)| contradictions.contains(&(s.min(p), s.max(p))))
    );
}

#[test]
fn links_file_succession_takes_the_new_schools_date() {
    let (rows, _) = links::parse(LINKS);
    let pairs = links::predecessor_pairs(&rows);
    let find = |successor, predecessor| {
        pairs
            .iter()
            .find(|&&(s, p, _)| s == successor && p == predecessor)
            .map(|&(_, _, d)| d)
    };
    // Line 33 (old school's side) says 31-08-2016, line 27570 (new school's side) 01-09-2016.
    assert_eq!(find(143_211, 100_111), Some(date(2016, 9, 1)));
    assert_eq!(find(100_111, 143_211), None);
    assert_eq!(find(138_950, 108_299), Some(date(2012, 11, 1)));
}

#[test]
fn links_file_windows_1252_names_decode() {
    let text = text::decode(LINKS);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[4576],
        "108299,138950,\"St Thomas à Becket Catholic Secondary School, A Voluntary Academy\",\"Successor\",\"31-10-2012\""
    );
    assert!(lines[33_452].contains("\"Awel Y Môr Primary School\""));
    assert!(lines[5_299].contains("\"North Star 82°\""));
}

#[test]
fn links_row_4577_with_a_non_ascii_name_still_parses() {
    let (rows, _) = links::parse(LINKS);
    let row = rows.iter().find(|r| r.line == 4_577).unwrap();
    assert_eq!(
        (row.urn, row.link_urn, row.link_type.as_str()),
        (108_299, 138_950, "Successor")
    );
}
