//! Local authority codes and names (SPEC 4.1 `LocalAuthority`), from the DfE's LA and
//! region list, compiled into the binary so that every school import can name its LA
//! without a file of its own.

use super::table::{Table, field};
use super::text;

/// One local authority: the DfE 3-digit LA code and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaName {
    pub code: i32,
    pub name: String,
}

/// The LA list as shipped in `data/`.
const EMBEDDED: &str = include_str!("../../../data/la_and_region_codes_meta.csv");

/// LAs abolished on 1 April 2019, when Dorset, Poole and Bournemouth were reorganised into
/// 838 Dorset and 839 Bournemouth, Christchurch and Poole. The current list has only the new
/// codes, but the census (January 2019) still files 291 schools under the old ones, and a
/// school must reference an LA that exists.
const PRE_2019: [(i32, &str); 3] = [
    (835, "Dorset (pre-2019)"),
    (836, "Poole (pre-2019)"),
    (837, "Bournemouth (pre-2019)"),
];

/// Parses the LA list (`LEA`, `LA Name`, ...; other columns are ignored).
///
/// Unlike the school files, any bad row fails the whole list: it is a small reference file
/// that every school row depends on, so a partial list would only turn one clear error into
/// hundreds of rejected schools.
pub fn parse(text: &str) -> Result<Vec<LaName>, String> {
    let table = Table::open(text)?;
    let [code_col, name_col] = table.header.require(["LEA", "LA Name"])?;
    let mut list: Vec<LaName> = Vec::new();
    for row in table {
        let (line, record) = row.map_err(|r| format!("line {}: {}", r.line, r.reason))?;
        let code = text::parse_code("LEA", field(&record, code_col), 100..=999)
            .map_err(|e| format!("line {line}: {e}"))?;
        let name = field(&record, name_col);
        if text::missing(name) {
            return Err(format!("line {line}: LA {code} has no name"));
        }
        if list.iter().any(|la| la.code == code) {
            return Err(format!("line {line}: LA {code} appears twice"));
        }
        list.push(LaName {
            code,
            name: name.to_string(),
        });
    }
    Ok(list)
}

/// The shipped LA list plus the pre-2019 Dorset, Poole and Bournemouth codes the census
/// uses, sorted by code.
///
/// The embedded file is part of the build and a test parses it, so the empty fallback is
/// unreachable in a tested build; it exists only to keep a panic out of production code.
pub fn embedded() -> Vec<LaName> {
    let mut list = parse(EMBEDDED).unwrap_or_default();
    for (code, name) in PRE_2019 {
        if !list.iter().any(|la| la.code == code) {
            list.push(LaName {
                code,
                name: name.to_string(),
            });
        }
    }
    list.sort_by_key(|la| la.code);
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(list: &[LaName], code: i32) -> Option<&str> {
        list.iter()
            .find(|la| la.code == code)
            .map(|la| la.name.as_str())
    }

    #[test]
    fn shipped_list_parses_with_its_151_authorities() {
        let list = parse(EMBEDDED).unwrap();
        assert_eq!(list.len(), 151);
        assert_eq!(name_of(&list, 202), Some("Camden"));
        assert_eq!(name_of(&list, 838), Some("Dorset"));
    }

    #[test]
    fn shipped_list_lacks_the_pre_2019_dorset_codes() {
        let list = parse(EMBEDDED).unwrap();
        for code in [835, 836, 837] {
            assert_eq!(name_of(&list, code), None);
        }
    }

    #[test]
    fn embedded_list_adds_the_pre_2019_dorset_poole_and_bournemouth_codes() {
        let list = embedded();
        assert_eq!(list.len(), 154);
        assert_eq!(name_of(&list, 835), Some("Dorset (pre-2019)"));
        assert_eq!(name_of(&list, 836), Some("Poole (pre-2019)"));
        assert_eq!(name_of(&list, 837), Some("Bournemouth (pre-2019)"));
        assert_eq!(
            name_of(&list, 839),
            Some("Bournemouth, Christchurch and Poole")
        );
    }

    #[test]
    fn embedded_list_is_sorted_by_code() {
        let codes: Vec<i32> = embedded().iter().map(|la| la.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
        assert_eq!(codes.first(), Some(&201));
    }

    #[test]
    fn quoted_names_with_commas_are_read_whole() {
        let list = embedded();
        assert_eq!(name_of(&list, 810), Some("Kingston Upon Hull, City of"));
        assert_eq!(name_of(&list, 801), Some("Bristol, City of"));
    }

    #[test]
    fn columns_are_found_by_name_not_position() {
        let list = parse("REGION,LA Name,LEA\n1,Camden,202\n").unwrap();
        assert_eq!(
            list,
            vec![LaName {
                code: 202,
                name: "Camden".into()
            }]
        );
    }

    #[test]
    fn a_bad_code_fails_the_whole_list_naming_the_line() {
        let err = parse("LEA,LA Name\n202,Camden\n2O3,Greenwich\n").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
    }

    #[test]
    fn a_duplicate_code_fails_the_whole_list() {
        assert!(parse("LEA,LA Name\n202,Camden\n202,Greenwich\n").is_err());
    }

    #[test]
    fn a_list_without_the_code_column_is_an_error() {
        let err = parse("LA,LA Name\n202,Camden\n").unwrap_err();
        assert!(err.contains("\"LEA\""), "{err}");
    }
}
