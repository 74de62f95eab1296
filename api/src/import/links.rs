//! GIAS establishment links: which URN replaced which. A school that converts to an academy,
//! merges, amalgamates or splits gets a new URN, and SPEC 4.1's `School.predecessorUrn` is
//! how a school's SENCO history survives the change.
//!
//! GIAS usually records a link twice, once from each school's side: the old school's row
//! says "Successor" and names the new school, the new school's row says "Predecessor" and
//! names the old one. In the 22 April 2025 file (33,801 rows) the `LinkType` values are:
//!
//! | LinkType | rows | read as |
//! |---|---:|---|
//! | Successor | 16,451 | LinkURN succeeded URN |
//! | Predecessor | 16,264 | LinkURN preceded URN |
//! | Predecessor - merged | 230 | LinkURN preceded URN |
//! | Successor - merged | 184 | LinkURN succeeded URN |
//! | Predecessor - amalgamated | 123 | LinkURN preceded URN |
//! | Successor - amalgamated | 110 | LinkURN succeeded URN |
//! | Successor - Split School | 48 | LinkURN succeeded URN |
//! | Predecessor - Split School | 44 | LinkURN preceded URN |
//! | Sixth Form Centre School | 135 | skipped: a shared sixth form, not a succession |
//! | Result of Amalgamation | 111 | skipped: recorded the same way from both sides |
//! | Sixth Form Centre Link | 57 | skipped |
//! | Other | 15 | skipped |
//! | Merged - change in age range | 9 | skipped: no direction |
//! | Merged - expansion in school capacity and changer in age range | 9 | skipped |
//! | Merged - expansion of school capacity | 5 | skipped |
//! | Expansion | 3 | skipped |
//! | Closure | 3 | skipped |
//!
//! "Result of Amalgamation" and the "Merged - ..." types are mostly written the same way on
//! both schools' rows, so they cannot say which school absorbed which. 102 of the 111
//! "Result of Amalgamation" rows have no directional link beside them, so those
//! amalgamations give no predecessor; the URN that carried on keeps its own history either
//! way.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::table::{Header, Table, field};
use super::{Rejected, text};

/// One row of the links file.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRow {
    /// Line in the file (the header is line 1), for the import summary.
    pub line: u64,
    pub urn: i32,
    pub link_urn: i32,
    /// `LinkType` as written, e.g. "Predecessor - merged".
    pub link_type: String,
    /// `LinkEstablishedDate`; blank on about a quarter of the rows.
    pub established_on: Option<NaiveDate>,
}

#[derive(Clone, Copy)]
struct Columns {
    urn: usize,
    link_urn: usize,
    link_type: usize,
    established: Option<usize>,
}

impl Columns {
    fn find(header: &Header) -> Result<Self, String> {
        let [urn, link_urn, link_type] = header.require(["URN", "LinkURN", "LinkType"])?;
        Ok(Columns {
            urn,
            link_urn,
            link_type,
            established: header.find("LinkEstablishedDate"),
        })
    }
}

/// Parses a whole links file (Windows-1252 as published, or UTF-8). A header without
/// `URN`, `LinkURN` and `LinkType` rejects the file as a whole, reported as line 1.
pub fn parse(bytes: &[u8]) -> (Vec<LinkRow>, Vec<Rejected>) {
    let text = text::decode(bytes);
    let mut links = Vec::new();
    let mut rejected = Vec::new();
    let opened = Table::open(&text).and_then(|table| {
        let columns = Columns::find(&table.header)?;
        Ok((table, columns))
    });
    match opened {
        Ok((table, columns)) => {
            for row in table {
                match row.and_then(|(line, record)| read(line, &record, columns)) {
                    Ok(link) => links.push(link),
                    Err(reason) => rejected.push(reason),
                }
            }
        }
        Err(reason) => rejected.push(Rejected { line: 1, reason }),
    }
    (links, rejected)
}

fn read(line: u64, record: &csv::StringRecord, columns: Columns) -> Result<LinkRow, Rejected> {
    let reject = |reason: String| Rejected { line, reason };
    let urn =
        text::parse_code("URN", field(record, columns.urn), 100_000..=999_999).map_err(reject)?;
    let link_urn = text::parse_code(
        "LinkURN",
        field(record, columns.link_urn),
        100_000..=999_999,
    )
    .map_err(reject)?;
    let link_type = field(record, columns.link_type);
    if text::missing(link_type) {
        return Err(reject("LinkType is missing".to_string()));
    }
    let established_on = match columns.established {
        Some(i) => text::parse_dmy(field(record, i))
            .map_err(|e| reject(format!("LinkEstablishedDate {e}")))?,
        None => None,
    };
    Ok(LinkRow {
        line,
        urn,
        link_urn,
        link_type: link_type.to_string(),
        established_on,
    })
}

/// Which way a link points, if it records a succession at all.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// LinkURN is the row's URN's predecessor: the row is written from the successor's side.
    LinkIsPredecessor,
    /// LinkURN is the row's URN's successor: the row is written from the predecessor's side.
    LinkIsSuccessor,
}

/// "Predecessor", "Predecessor - merged", "- amalgamated", "- Split School" and the
/// matching "Successor ..." types; every other type is skipped (see the module table).
fn direction(link_type: &str) -> Option<Direction> {
    let link_type = link_type.trim();
    if link_type.starts_with("Predecessor") {
        Some(Direction::LinkIsPredecessor)
    } else if link_type.starts_with("Successor") {
        Some(Direction::LinkIsSuccessor)
    } else {
        None
    }
}

/// The succession a row states, as `(successor, predecessor)`, or `None` for a link of
/// another type (a sixth-form centre, a federation, ...).
pub fn succession(row: &LinkRow) -> Option<(i32, i32)> {
    match direction(&row.link_type)? {
        Direction::LinkIsPredecessor => Some((row.urn, row.link_urn)),
        Direction::LinkIsSuccessor => Some((row.link_urn, row.urn)),
    }
}

/// Dates recorded for one succession, from each side.
#[derive(Default)]
struct Sides {
    successor_side: Option<NaiveDate>,
    predecessor_side: Option<NaiveDate>,
}

/// Every succession the rows state, keyed (successor, predecessor), before contradictions
/// are removed.
fn successions(rows: &[LinkRow]) -> BTreeMap<(i32, i32), Sides> {
    let mut found: BTreeMap<(i32, i32), Sides> = BTreeMap::new();
    for row in rows {
        match direction(&row.link_type) {
            Some(Direction::LinkIsPredecessor) => {
                let sides = found.entry((row.urn, row.link_urn)).or_default();
                sides.successor_side = sides.successor_side.or(row.established_on);
            }
            Some(Direction::LinkIsSuccessor) => {
                let sides = found.entry((row.link_urn, row.urn)).or_default();
                sides.predecessor_side = sides.predecessor_side.or(row.established_on);
            }
            None => {}
        }
    }
    found
}

/// `(successor URN, predecessor URN, date)` for every succession in the rows, once each,
/// sorted by successor then predecessor.
///
/// The two rows recording one succession usually carry different dates: the old school's
/// row has the day it closed (31 August), the new school's the day it opened (1 September).
/// The new school's date is preferred, as the day the successor took over; the old school's
/// is used when that is blank.
///
/// A successor may have several predecessors (an amalgamation) and a predecessor several
/// successors (a split); all are returned, and choosing one for `predecessorUrn` is the
/// importer's business. Pairs the file states in both directions (ten in the April 2025
/// file, mostly amalgamations where each school names the other as its predecessor) are
/// left out: the file contradicts itself there, and keeping both would make a school its
/// own ancestor. [`contradictions`] lists them for the import summary.
pub fn predecessor_pairs(rows: &[LinkRow]) -> Vec<(i32, i32, Option<NaiveDate>)> {
    let found = successions(rows);
    found
        .iter()
        .filter(|&(&(successor, predecessor), _)| {
            successor != predecessor && !found.contains_key(&(predecessor, successor))
        })
        .map(|(&(successor, predecessor), sides)| {
            (
                successor,
                predecessor,
                sides.successor_side.or(sides.predecessor_side),
            )
        })
        .collect()
}

/// The pairs of URNs each recorded as the other's predecessor (or a URN as its own), which
/// [`predecessor_pairs`] leaves out; each pair once, smaller URN first, sorted.
pub fn contradictions(rows: &[LinkRow]) -> Vec<(i32, i32)> {
    let found = successions(rows);
    found
        .keys()
        .filter(|&&(a, b)| a <= b && (a == b || found.contains_key(&(b, a))))
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "\"URN\",\"LinkURN\",\"LinkName\",\"LinkType\",\"LinkEstablishedDate\"\r\n";

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn link(
        urn: i32,
        link_urn: i32,
        link_type: &str,
        established_on: Option<NaiveDate>,
    ) -> LinkRow {
        LinkRow {
            line: 0,
            urn,
            link_urn,
            link_type: link_type.to_string(),
            established_on,
        }
    }

    #[test]
    fn a_row_reads_with_its_quoted_fields_and_date() {
        let text = format!(
            "{HEADER}100006,134643,\"CCfL Key Stage 3 PRU\",\"Predecessor - merged\",\"01-01-2022\"\r\n"
        );
        let (links, rejected) = parse(text.as_bytes());
        assert_eq!(rejected, vec![]);
        assert_eq!(
            links,
            vec![LinkRow {
                line: 2,
                ..link(100_006, 134_643, "Predecessor - merged", date(2022, 1, 1))
            }]
        );
    }

    #[test]
    fn a_blank_date_is_none() {
        let text =
            format!("{HEADER}100016,132245,\"Kingsgate Primary School\",\"Successor\",\"\"\r\n");
        let (links, _) = parse(text.as_bytes());
        assert_eq!(links[0].established_on, None);
    }

    #[test]
    fn a_broken_urn_or_date_is_rejected_with_its_line() {
        let text = format!(
            "{HEADER}1OOO16,132245,\"K\",\"Successor\",\"\"\r\n\
             100016,132245,\"K\",\"Successor\",\"2021-08-31\"\r\n\
             100017,132245,\"K\",\"Successor\",\"\"\r\n"
        );
        let (links, rejected) = parse(text.as_bytes());
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].line, 4);
        assert_eq!(
            rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert!(rejected[0].reason.starts_with("URN"), "{rejected:?}");
        assert!(
            rejected[1].reason.starts_with("LinkEstablishedDate"),
            "{rejected:?}"
        );
    }

    #[test]
    fn a_header_without_link_type_rejects_the_file_at_line_1() {
        let (links, rejected) = parse(b"URN,LinkURN\r\n100016,132245\r\n");
        assert_eq!(links, vec![]);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, 1);
        assert!(rejected[0].reason.contains("\"LinkType\""), "{rejected:?}");
    }

    #[test]
    fn predecessor_row_names_the_old_school_and_successor_row_the_new() {
        let pairs = predecessor_pairs(&[
            link(140_000, 100_000, "Predecessor", None),
            link(100_001, 140_001, "Successor - merged", None),
        ]);
        assert_eq!(
            pairs,
            vec![(140_000, 100_000, None), (140_001, 100_001, None)]
        );
    }

    #[test]
    fn a_succession_recorded_from_both_sides_is_one_pair_dated_from_the_new_school() {
        let pairs = predecessor_pairs(&[
            link(100_000, 140_000, "Successor", date(2016, 8, 31)),
            link(140_000, 100_000, "Predecessor", date(2016, 9, 1)),
        ]);
        assert_eq!(pairs, vec![(140_000, 100_000, date(2016, 9, 1))]);
    }

    #[test]
    fn the_old_schools_date_is_used_when_the_new_schools_is_blank() {
        let pairs = predecessor_pairs(&[
            link(100_000, 140_000, "Successor", date(2016, 8, 31)),
            link(140_000, 100_000, "Predecessor", None),
        ]);
        assert_eq!(pairs, vec![(140_000, 100_000, date(2016, 8, 31))]);
    }

    #[test]
    fn an_amalgamation_gives_the_new_school_every_predecessor() {
        let pairs = predecessor_pairs(&[
            link(140_000, 100_000, "Predecessor - amalgamated", None),
            link(140_000, 100_001, "Predecessor - amalgamated", None),
            link(100_000, 140_000, "Successor - amalgamated", None),
        ]);
        assert_eq!(
            pairs,
            vec![(140_000, 100_000, None), (140_000, 100_001, None)]
        );
    }

    #[test]
    fn non_succession_links_are_skipped() {
        let pairs = predecessor_pairs(&[
            link(132_838, 100_050, "Sixth Form Centre School", None),
            link(100_050, 132_838, "Sixth Form Centre Link", None),
            link(101_276, 101_277, "Result of Amalgamation", None),
            link(104_303, 104_307, "Merged - change in age range", None),
            link(106_666, 135_500, "Expansion", None),
            link(112_445, 121_739, "Closure", None),
            link(107_615, 107_755, "Other", None),
        ]);
        assert_eq!(pairs, vec![]);
    }

    #[test]
    fn schools_naming_each_other_as_predecessor_are_left_out_as_contradictory() {
        let rows = [
            link(114_704, 114_705, "Predecessor - amalgamated", None),
            link(114_705, 114_704, "Predecessor - amalgamated", None),
            link(140_000, 100_000, "Predecessor", None),
        ];
        assert_eq!(predecessor_pairs(&rows), vec![(140_000, 100_000, None)]);
        assert_eq!(contradictions(&rows), vec![(114_704, 114_705)]);
    }

    #[test]
    fn a_school_is_never_its_own_predecessor() {
        let rows = [link(140_000, 140_000, "Predecessor", None)];
        assert_eq!(predecessor_pairs(&rows), vec![]);
        assert_eq!(contradictions(&rows), vec![(140_000, 140_000)]);
    }
}
