//! Decoding and field conventions shared by the DfE files: their text encodings, the markers
//! they use for a missing value, and their `dd-mm-yyyy` dates.

use chrono::NaiveDate;
use encoding_rs::WINDOWS_1252;

/// The bytes of a DfE CSV file as text.
///
/// GIAS downloads come as Windows-1252, or as UTF-8 with or without a BOM depending on how
/// and when they were saved (SPEC 4.1); the census file is UTF-8 with a BOM. Windows-1252
/// text containing any byte at or above 0x80 is almost never valid UTF-8 (a lone `à` is
/// 0xE0, which UTF-8 requires to start a three-byte sequence), so "valid UTF-8, else
/// Windows-1252" tells the two apart without a header or a guess. Windows-1252 decoding
/// cannot fail: encoding_rs maps every byte to a character.
///
/// A file that is UTF-8 (it has more well-formed multi-byte sequences than broken ones) but
/// has a few bytes that are not (a line pasted in from elsewhere, a damaged copy) is decoded
/// as UTF-8 with each broken sequence replaced by U+FFFD, so that only the rows holding one
/// are lost, each reported with its line ([`BROKEN`]), rather than the whole file being
/// misread as Windows-1252. A BOM alone does not decide it: GIAS files have been seen with a
/// BOM and Windows-1252 text after it.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let (mut multibyte, mut broken) = (0_usize, 0_usize);
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        broken += usize::from(!chunk.invalid().is_empty());
    }
    if multibyte > broken {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()
    }
}

/// The bytes of a file that is UTF-8 by definition (the census file), each sequence that is
/// not UTF-8 replaced by [`BROKEN`], so that the rows holding one are reported by line.
pub fn decode_utf8(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// What [`decode`] puts in place of bytes that are not UTF-8 in a UTF-8 file; a row holding
/// it is rejected with its line number.
pub const BROKEN: char = char::REPLACEMENT_CHARACTER;

/// Markers the DfE publishes in place of a value, compared after trimming.
///
/// `NA` is what the census file uses; GIAS leaves fields empty; the other DfE statistics and
/// performance tables use `x` (not available), `z` (not applicable), `c` (confidential),
/// `:` and `.`, `SUPP` (suppressed), `NP` (not published), `NE` (no entries), `LOW`, `NEW`
/// (new school, no figures yet) and `DNS` (did not submit). The
/// comparison is case-sensitive because the DfE publishes each marker in one fixed case,
/// and a looser match would start to swallow real short values such as a trust called
/// "Na".
const MISSING_MARKERS: [&str; 15] = [
    "", "NA", "N/A", "n/a", "x", "z", "c", ":", ".", "SUPP", "NP", "NE", "LOW", "NEW", "DNS",
];

/// Whether a field holds no value: blank, or one of the DfE's missing-value markers
/// (`MISSING_MARKERS` in this module lists them and says where each comes from).
pub fn missing(field: &str) -> bool {
    MISSING_MARKERS.contains(&field.trim())
}

/// A `dd-mm-yyyy` date as used by GIAS (`CloseDate`, `LinkEstablishedDate`); `Ok(None)` when
/// the field is [`missing`]. Anything else that is not a real calendar date is an error,
/// rather than a guess at another format, because a misread day and month would silently
/// move a closure by months.
pub fn parse_dmy(s: &str) -> Result<Option<NaiveDate>, String> {
    let s = s.trim();
    if missing(s) {
        return Ok(None);
    }
    let parts: Vec<&str> = s.split('-').collect();
    let well_formed = matches!(
        parts.as_slice(),
        [d, m, y] if d.len() == 2 && m.len() == 2 && y.len() == 4
            && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    );
    if !well_formed {
        return Err(format!("\"{s}\" is not a dd-mm-yyyy date"));
    }
    NaiveDate::parse_from_str(s, "%d-%m-%Y")
        .map(Some)
        .map_err(|_| format!("\"{s}\" is not a real date"))
}

/// An optional whole number such as a pupil count: `Ok(None)` when [`missing`], an error
/// naming the column when it is anything but digits (a negative count or a decimal means
/// the column is not what we think it is).
pub fn parse_count(column: &str, s: &str) -> Result<Option<i32>, String> {
    let s = s.trim();
    if missing(s) {
        return Ok(None);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{column} \"{s}\" is not a whole number"));
    }
    s.parse::<i32>()
        .map(Some)
        .map_err(|_| format!("{column} \"{s}\" is too large"))
}

/// A required code such as a URN or LA code: digits only, within `range`. The error names
/// the column and the value so that the import summary can be acted on.
pub fn parse_code(
    column: &str,
    s: &str,
    range: std::ops::RangeInclusive<i32>,
) -> Result<i32, String> {
    let s = s.trim();
    if missing(s) {
        return Err(format!("{column} is missing"));
    }
    match s.parse::<i32>() {
        Ok(code) if s.bytes().all(|b| b.is_ascii_digit()) && range.contains(&code) => Ok(code),
        _ => Err(format!(
            "{column} \"{s}\" is not a code between {} and {}",
            range.start(),
            range.end()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_utf8_file_with_one_broken_sequence_stays_utf8_with_the_break_marked() {
        // The census file is UTF-8 by definition.
        let text = decode_utf8(b"\xEF\xBB\xBFname\nok\nbad\xFF\n");
        assert_eq!(text, "name\nok\nbad\u{FFFD}\n");
        // Others: more good multi-byte sequences than broken ones.
        let text = decode(b"name\ncaf\xC3\xA9\nna\xC3\xAFve\nbad\xFF\n");
        assert!(text.starts_with("name\ncafé\nnaïve\n"), "{text}");
        assert!(text.contains(BROKEN));
    }

    #[test]
    fn windows_1252_is_still_read_as_windows_1252() {
        // 0xE9 is é in Windows-1252 and a broken sequence in UTF-8.
        assert_eq!(decode(b"St Ren\xE9e's"), "St Renée's");
    }

    #[test]
    fn utf8_bom_is_stripped() {
        assert_eq!(decode(b"\xEF\xBB\xBFURN,LA"), "URN,LA");
    }

    #[test]
    fn valid_utf8_is_kept_as_utf8() {
        assert_eq!(
            decode("St Thomas à Becket".as_bytes()),
            "St Thomas à Becket"
        );
    }

    #[test]
    fn invalid_utf8_is_read_as_windows_1252() {
        // 0xE0 is `à`, 0xB0 `°`, 0x92 the right single quote Excel puts in names.
        assert_eq!(decode(b"St Thomas \xE0 Becket"), "St Thomas à Becket");
        assert_eq!(decode(b"North Star 82\xB0"), "North Star 82°");
        assert_eq!(decode(b"St Mary\x92s"), "St Mary\u{2019}s");
    }

    #[test]
    fn windows_1252_text_after_a_utf8_bom_is_still_decoded() {
        assert_eq!(decode(b"\xEF\xBB\xBFM\xF4r"), "Môr");
    }

    #[test]
    fn empty_input_decodes_to_empty_text() {
        assert_eq!(decode(b""), "");
        assert_eq!(decode(b"\xEF\xBB\xBF"), "");
    }

    #[test]
    fn dfe_markers_and_blanks_are_missing() {
        for marker in [
            "", "  ", "NA", " NA ", "x", "z", "c", "SUPP", "NP", "NE", "LOW", "DNS",
        ] {
            assert!(missing(marker), "{marker:?} should be missing");
        }
    }

    #[test]
    fn real_values_and_other_cases_are_not_missing() {
        for value in ["0", "12", "Na", "X", "Z", "supp", "Nancy", "Camden"] {
            assert!(!missing(value), "{value:?} should not be missing");
        }
    }

    #[test]
    fn dd_mm_yyyy_dates_parse_day_first() {
        assert_eq!(parse_dmy("31-08-2021"), Ok(Some(date(2021, 8, 31))));
        assert_eq!(parse_dmy("01-09-2021"), Ok(Some(date(2021, 9, 1))));
        assert_eq!(parse_dmy(" 29-02-2024 "), Ok(Some(date(2024, 2, 29))));
    }

    #[test]
    fn missing_date_is_none_not_an_error() {
        assert_eq!(parse_dmy(""), Ok(None));
        assert_eq!(parse_dmy("NA"), Ok(None));
    }

    #[test]
    fn impossible_or_differently_formatted_dates_are_errors() {
        for bad in [
            "31-02-2019",
            "29-02-2023",
            "2019-01-17",
            "17/01/2019",
            "1-9-2021",
            "soon",
        ] {
            assert!(parse_dmy(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn counts_accept_digits_and_missing_markers_only() {
        assert_eq!(parse_count("NOR", "285"), Ok(Some(285)));
        assert_eq!(parse_count("NOR", "0"), Ok(Some(0)));
        assert_eq!(parse_count("NOR", "NA"), Ok(None));
        assert!(parse_count("NOR", "-3").is_err());
        assert!(parse_count("NOR", "12.5").is_err());
        assert!(parse_count("NOR", "99999999999").is_err());
    }

    #[test]
    fn codes_must_be_digits_within_their_range() {
        assert_eq!(parse_code("URN", "100000", 100_000..=999_999), Ok(100_000));
        assert_eq!(parse_code("LA", " 202 ", 100..=999), Ok(202));
        assert!(parse_code("URN", "NAT", 100_000..=999_999).is_err());
        assert!(parse_code("URN", "12345", 100_000..=999_999).is_err());
        assert!(parse_code("URN", "+100000", 100_000..=999_999).is_err());
        assert!(
            parse_code("URN", "", 100_000..=999_999)
                .unwrap_err()
                .contains("missing")
        );
    }
}
