//! Parsing of the DfE files that seed the reference data (SPEC 4.1): the school census,
//! GIAS establishment data and links, and the LA code list.
//!
//! Everything here is pure: bytes or text in, typed rows out, with no database and no I/O,
//! so the importers can be tested against the real files in `data/`. A row that cannot be
//! used never aborts a parse; it comes back as a [`Rejected`] with its line number so the
//! import summary can report it (SPEC 4.1: "a bad row is reported with its line number and
//! skipped").

pub mod census;
pub mod gias;
pub mod la_codes;
pub mod links;
pub mod text;

#[cfg(test)]
mod real_data_tests;

/// A row that could not be used, with its 1-based line number in the file (header is line 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Line on which the row starts; a quoted field may carry it over several lines.
    pub line: u64,
    /// Why the row was skipped, naming the offending column and value.
    pub reason: String,
}

/// Shared reading of CSV text: header lookup by name and line numbers for rejections.
mod table {
    use super::Rejected;

    /// Column positions found by header name, so that a reordered or wider file still reads.
    pub(super) struct Header {
        names: Vec<String>,
    }

    impl Header {
        pub(super) fn new(record: &csv::StringRecord) -> Self {
            let names = record.iter().map(|name| name.trim().to_string()).collect();
            Header { names }
        }

        /// Position of the column whose header is exactly `name` (ignoring case and padding).
        pub(super) fn find(&self, name: &str) -> Option<usize> {
            self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
        }

        /// Positions of all `names`, or the list of those missing.
        pub(super) fn require<const N: usize>(
            &self,
            names: [&str; N],
        ) -> Result<[usize; N], String> {
            let mut found = [0; N];
            let mut missing = Vec::new();
            for (slot, name) in found.iter_mut().zip(names) {
                match self.find(name) {
                    Some(i) => *slot = i,
                    None => missing.push(format!("\"{name}\"")),
                }
            }
            if missing.is_empty() {
                Ok(found)
            } else {
                Err(format!("header lacks column(s) {}", missing.join(", ")))
            }
        }
    }

    /// Rows of CSV text whose first record is the header, each checked against the header's
    /// width: a row with a field too many or too few usually means an unquoted comma has
    /// shifted every later column, so none of its values can be trusted.
    pub(super) struct Table<'a> {
        pub(super) header: Header,
        width: usize,
        records: csv::StringRecordsIntoIter<&'a [u8]>,
        lines: LineCounter<'a>,
        /// The whole text, and where in it the current reader began (after a recovery).
        bytes: &'a [u8],
        base: usize,
    }

    fn reader(bytes: &[u8]) -> csv::StringRecordsIntoIter<&[u8]> {
        // `flexible` so that a row of the wrong width is one rejection, not the end.
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes)
            .into_records()
    }

    impl<'a> Table<'a> {
        /// Reads the header; `Err` when the text has no readable first row.
        pub(super) fn open(text: &'a str) -> Result<Self, String> {
            let bytes = text.strip_prefix('\u{feff}').unwrap_or(text).as_bytes();
            let mut records = reader(bytes);
            let first = match records.next() {
                Some(Ok(record)) => record,
                Some(Err(error)) => return Err(format!("unreadable header row: {error}")),
                None => return Err("the file is empty: no header row".to_string()),
            };
            let lines = LineCounter {
                bytes,
                scanned_to: 0,
                line: 1,
            };
            Ok(Table {
                width: first.len(),
                header: Header::new(&first),
                records,
                lines,
                bytes,
                base: 0,
            })
        }
    }

    impl Iterator for Table<'_> {
        /// The row with the line it starts on (the header is line 1), or why it is unusable.
        type Item = Result<(u64, csv::StringRecord), Rejected>;

        fn next(&mut self) -> Option<Self::Item> {
            let base = self.base as u64;
            let at = |p: Option<&csv::Position>| p.map(|p| p.byte() + base);
            let (record, line) = match self.records.next()? {
                Ok(record) => {
                    let line = self.lines.line_of(at(record.position()));
                    (record, line)
                }
                Err(error) => {
                    // Only invalid UTF-8 reaches here, and the text is decoded already.
                    let line = self.lines.line_of(at(error.position()));
                    let reason = format!("unreadable CSV row: {error}");
                    return Some(Err(Rejected { line, reason }));
                }
            };
            // No field of these files holds a line break: one that does began with a quote
            // that was never closed and swallowed the lines after it. Skip just its first
            // line and read on from the next.
            if record.iter().any(|f| f.contains(['\n', '\r'])) {
                let start = self.lines.scanned_to;
                let resume = self.bytes[start..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(self.bytes.len(), |i| start + i + 1);
                self.records = reader(&self.bytes[resume..]);
                self.base = resume;
                let reason = "a quoted field runs past the end of the line (an unclosed quote?): \
                              the row is skipped and reading goes on with the next line"
                    .to_string();
                return Some(Err(Rejected { line, reason }));
            }
            if record.iter().any(|f| f.contains(super::text::BROKEN)) {
                let reason = "the row holds bytes that are not UTF-8, in a file that is: \
                              it cannot be read as text and is skipped (re-save the file as \
                              UTF-8 to keep it)"
                    .to_string();
                return Some(Err(Rejected { line, reason }));
            }
            if record.len() != self.width {
                let reason = format!(
                    "row has {} fields but the header has {}",
                    record.len(),
                    self.width
                );
                return Some(Err(Rejected { line, reason }));
            }
            Some(Ok((line, record)))
        }
    }

    /// Line numbers for records, counted from byte offsets.
    ///
    /// The csv crate's own `Position::line` is off for CRLF files (the GIAS downloads): a
    /// record is taken to start at the `\n` ending the previous line, so it is reported one
    /// line early, and blank lines skew it the same way. Counting line breaks up to the
    /// record's first byte gives the line a person sees in an editor. Records arrive in
    /// order, so the count carries on from the previous record and the whole file is
    /// scanned once.
    struct LineCounter<'a> {
        bytes: &'a [u8],
        scanned_to: usize,
        line: u64,
    }

    impl LineCounter<'_> {
        /// The line of the record starting at byte `byte` of the whole text.
        fn line_of(&mut self, byte: Option<u64>) -> u64 {
            let Some(byte) = byte else {
                return self.line;
            };
            let mut start = usize::try_from(byte)
                .unwrap_or(usize::MAX)
                .min(self.bytes.len());
            // Skip the line ending (and any blank lines) the reported start points into.
            while let Some(b'\r' | b'\n') = self.bytes.get(start) {
                start += 1;
            }
            let scanned = self.bytes.get(self.scanned_to..start).unwrap_or(&[]);
            for (i, byte) in scanned.iter().enumerate() {
                let next = scanned.get(i + 1).or_else(|| self.bytes.get(start));
                // "\r\n" and "\n" end a line, and so does a lone "\r" (old Mac files).
                if *byte == b'\n' || (*byte == b'\r' && next != Some(&b'\n')) {
                    self.line += 1;
                }
            }
            self.scanned_to = self.scanned_to.max(start);
            self.line
        }
    }

    /// A field by position, trimmed; rows have the header's width, so the index is in range.
    pub(super) fn field(record: &csv::StringRecord, index: usize) -> &str {
        record.get(index).unwrap_or("").trim()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn lines(text: &str) -> Vec<(u64, String)> {
            Table::open(text)
                .unwrap()
                .map(|row| {
                    row.map(|(line, record)| (line, record[0].to_string()))
                        .unwrap()
                })
                .collect()
        }

        #[test]
        fn an_unclosed_quote_costs_its_own_line_only() {
            let text = "a,b\r\n1,x\r\n2,\"oops\r\n3,y\r\n4,z\r\n";
            let rows: Vec<Result<(u64, String), u64>> = Table::open(text)
                .unwrap()
                .map(|r| {
                    r.map(|(l, rec)| (l, rec[0].to_string()))
                        .map_err(|e| e.line)
                })
                .collect();
            assert_eq!(
                rows,
                vec![
                    Ok((2, "1".into())),
                    Err(3),
                    Ok((4, "3".into())),
                    Ok((5, "4".into()))
                ]
            );
        }

        #[test]
        fn a_row_with_bytes_that_are_not_utf8_costs_that_row_only() {
            let bytes = b"\xEF\xBB\xBFa,b\n1,caf\xC3\xA9\n2,bad\xFF\xFEbytes\n3,y\n";
            let text = crate::import::text::decode_utf8(bytes);
            let rows: Vec<Result<(u64, String), (u64, String)>> = Table::open(&text)
                .unwrap()
                .map(|r| {
                    r.map(|(l, rec)| (l, rec[1].to_string()))
                        .map_err(|e| (e.line, e.reason))
                })
                .collect();
            assert_eq!(rows[0], Ok((2, "café".into())));
            assert!(
                matches!(&rows[1], Err((3, reason)) if reason.contains("not UTF-8")),
                "{rows:?}"
            );
            assert_eq!(rows[2], Ok((4, "y".into())));
            assert_eq!(rows.len(), 3);
        }

        fn expected(rows: &[(u64, &str)]) -> Vec<(u64, String)> {
            rows.iter()
                .map(|&(line, first)| (line, first.to_string()))
                .collect()
        }

        #[test]
        fn lines_are_counted_the_same_for_lf_and_crlf() {
            assert_eq!(lines("h\na\nb\n"), expected(&[(2, "a"), (3, "b")]));
            assert_eq!(lines("h\r\na\r\nb"), expected(&[(2, "a"), (3, "b")]));
        }

        #[test]
        fn blank_lines_are_skipped_but_still_counted() {
            assert_eq!(lines("h\n\n\na\nb\n"), expected(&[(4, "a"), (5, "b")]));
            assert_eq!(
                lines("h\r\n\r\n\r\na\r\nb"),
                expected(&[(4, "a"), (5, "b")])
            );
        }

        /// No DfE file holds a line break inside a field, so one that does is taken for an
        /// unclosed quote: its line is rejected and the next line read on its own.
        #[test]
        fn a_quoted_field_over_two_lines_is_rejected_on_its_first_line() {
            let rows: Vec<Result<u64, u64>> = Table::open("h,i\r\n\"a\r\nx\",1\r\nb,2\r\n")
                .unwrap()
                .map(|r| r.map(|(l, _)| l).map_err(|e| e.line))
                .collect();
            // Line 3 (`x",1`) is read on its own and kept as the row it now is; line 4 too.
            assert_eq!(rows, vec![Err(2), Ok(3), Ok(4)]);
        }

        #[test]
        fn lone_carriage_returns_end_lines_too() {
            assert_eq!(lines("h\ra\rb\r"), expected(&[(2, "a"), (3, "b")]));
        }

        #[test]
        fn a_bom_before_the_header_is_ignored() {
            let table = Table::open("\u{feff}URN,LA\n1,2\n").unwrap();
            assert_eq!(table.header.find("URN"), Some(0));
        }

        #[test]
        fn header_names_match_ignoring_case_and_padding() {
            let table = Table::open(" URN , La (Code)\n").unwrap();
            assert_eq!(table.header.find("LA (code)"), Some(1));
            assert_eq!(
                table.header.require(["URN", "Name"]).unwrap_err(),
                "header lacks column(s) \"Name\""
            );
        }
    }
}
