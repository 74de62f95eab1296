//! Evidence checks (SPEC 4.9): that a SENCO's QTS, induction and award were checked against
//! a source, not only typed in. DfE's "check a teacher's record" service confirms QTS,
//! induction and the NPQ for SENCOs by TRN and date of birth, in bulk files of up to 100
//! people; a NASENCO is a university certificate, which that service does not hold.

use chrono::{Months, NaiveDate};

use super::qualification::QualificationKind;

/// Where a check looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvidenceSource {
    /// DfE's "check a teacher's record" service.
    DfeTeacherRecord,
    /// A certificate seen (a NASENCO is awarded by a university).
    Certificate,
    /// Anything else, described in the note.
    Other,
}

impl EvidenceSource {
    /// Every source, in the order the GraphQL enum lists them.
    pub const ALL: [Self; 3] = [Self::DfeTeacherRecord, Self::Certificate, Self::Other];

    /// The stable wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DfeTeacherRecord => "DFE_TEACHER_RECORD",
            Self::Certificate => "CERTIFICATE",
            Self::Other => "OTHER",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What a check confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvidenceItem {
    /// Qualified teacher status.
    Qts,
    /// Statutory induction.
    Induction,
    /// The NPQ for SENCOs.
    NpqSenco,
    /// The National Award for SEN Co-ordination.
    Nasenco,
}

impl EvidenceItem {
    /// Every item, in the order the GraphQL enum lists them.
    pub const ALL: [Self; 4] = [Self::Qts, Self::Induction, Self::NpqSenco, Self::Nasenco];

    /// The stable wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qts => "QTS",
            Self::Induction => "INDUCTION",
            Self::NpqSenco => "NPQ_SENCO",
            Self::Nasenco => "NASENCO",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The item that confirms an award of `kind`.
    pub fn award(kind: QualificationKind) -> Self {
        match kind {
            QualificationKind::NpqSenco => Self::NpqSenco,
            QualificationKind::Nasenco => Self::Nasenco,
        }
    }

    /// Items as stored: their names, comma-separated, in a fixed order.
    pub fn join(items: &[Self]) -> String {
        items
            .iter()
            .map(|i| i.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The inverse of [`join`](Self::join); unknown names are dropped.
    pub fn split(s: &str) -> Vec<Self> {
        s.split(',').filter_map(|i| Self::parse(i.trim())).collect()
    }
}

/// The items a check confirms, as given: at least one, each once (returned sorted), and
/// none the source cannot show: DfE's record holds no NASENCO.
pub fn check_confirms(
    source: EvidenceSource,
    items: &[EvidenceItem],
) -> Result<Vec<EvidenceItem>, String> {
    let mut out = items.to_vec();
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        return Err("must name at least one of QTS, INDUCTION, NPQ_SENCO, NASENCO".into());
    }
    if source == EvidenceSource::DfeTeacherRecord && out.contains(&EvidenceItem::Nasenco) {
        return Err(
            "the DfE teacher record does not hold the NASENCO, a university award: record \
             the certificate with source CERTIFICATE"
                .into(),
        );
    }
    Ok(out)
}

/// One recorded check, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    /// The day of the check.
    pub checked_on: NaiveDate,
    /// Where it looked.
    pub source: EvidenceSource,
    /// What it confirmed.
    pub confirms: Vec<EvidenceItem>,
}

/// What of a current SENCO's record needs confirming (SPEC 4.7, `SENCO_EVIDENCE_NOT_CHECKED`):
/// their QTS, unless they hold the post as headteacher (reg 49(2)) or have none to confirm
/// (which `SENCO_NOT_ELIGIBLE` already raises); and the award of the counting qualification
/// they hold, if any.
pub fn needs_confirming(
    has_qts: bool,
    is_headteacher: bool,
    award: Option<QualificationKind>,
) -> Vec<EvidenceItem> {
    let mut out = Vec::new();
    if has_qts && !is_headteacher {
        out.push(EvidenceItem::Qts);
    }
    if let Some(kind) = award {
        out.push(EvidenceItem::award(kind));
    }
    out
}

/// The items of `needed` that no check made on or before `t` has ever confirmed.
pub fn unconfirmed(
    needed: &[EvidenceItem],
    checks: &[CheckRecord],
    t: NaiveDate,
) -> Vec<EvidenceItem> {
    needed
        .iter()
        .copied()
        .filter(|item| {
            !checks
                .iter()
                .any(|c| c.checked_on <= t && c.confirms.contains(item))
        })
        .collect()
}

/// Whether a SENCO is due a DfE teacher record check on `today` (SPEC 4.9): none from that
/// source in the last twelve months (a check a year ago to the day still counts).
pub fn due_dfe_check(checks: &[CheckRecord], today: NaiveDate) -> bool {
    let since = today
        .checked_sub_months(Months::new(12))
        .unwrap_or(NaiveDate::MIN);
    !checks.iter().any(|c| {
        c.source == EvidenceSource::DfeTeacherRecord
            && c.checked_on >= since
            && c.checked_on <= today
    })
}

/// People per DfE bulk check file (SPEC 4.9).
pub const DFE_CHECK_FILE_ROWS: usize = 100;

#[cfg(test)]
// Panicking on a malformed test fixture is the right failure in a test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::EvidenceItem::*;
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn check(on: NaiveDate, source: EvidenceSource, confirms: &[EvidenceItem]) -> CheckRecord {
        CheckRecord {
            checked_on: on,
            source,
            confirms: confirms.to_vec(),
        }
    }

    #[test]
    fn names_round_trip_through_storage() {
        for s in EvidenceSource::ALL {
            assert_eq!(EvidenceSource::parse(s.as_str()), Some(s));
        }
        let all = EvidenceItem::ALL.to_vec();
        assert_eq!(EvidenceItem::split(&EvidenceItem::join(&all)), all);
        assert_eq!(EvidenceItem::split(""), vec![]);
    }

    #[test]
    fn a_check_confirms_something_each_once() {
        assert!(check_confirms(EvidenceSource::Other, &[]).is_err());
        assert_eq!(
            check_confirms(EvidenceSource::Other, &[NpqSenco, Qts, Qts]),
            Ok(vec![Qts, NpqSenco])
        );
    }

    #[test]
    fn the_dfe_record_cannot_confirm_a_nasenco_but_a_certificate_can() {
        let e = check_confirms(EvidenceSource::DfeTeacherRecord, &[Qts, Nasenco]).unwrap_err();
        assert!(e.contains("CERTIFICATE"), "{e}");
        assert!(check_confirms(EvidenceSource::Certificate, &[Nasenco]).is_ok());
    }

    #[test]
    fn a_headteacher_senco_needs_no_qts_check_but_their_award_does() {
        assert_eq!(
            needs_confirming(true, true, Some(QualificationKind::Nasenco)),
            vec![Nasenco]
        );
        assert_eq!(
            needs_confirming(true, false, Some(QualificationKind::NpqSenco)),
            vec![Qts, NpqSenco]
        );
        assert_eq!(needs_confirming(false, false, None), vec![]);
    }

    #[test]
    fn only_checks_made_by_the_day_and_naming_the_item_confirm_it() {
        let checks = [
            check(d(2026, 1, 10), EvidenceSource::DfeTeacherRecord, &[Qts]),
            check(d(2026, 3, 1), EvidenceSource::Certificate, &[Nasenco]),
        ];
        assert_eq!(
            unconfirmed(&[Qts, Nasenco], &checks, d(2026, 2, 1)),
            vec![Nasenco]
        );
        assert_eq!(unconfirmed(&[Qts, Nasenco], &checks, d(2026, 3, 1)), vec![]);
        assert_eq!(
            unconfirmed(&[Qts], &checks, d(2026, 1, 9)),
            vec![Qts],
            "not before the day of the check"
        );
    }

    #[test]
    fn a_dfe_check_a_year_ago_to_the_day_still_counts_but_not_the_day_before() {
        let today = d(2026, 6, 15);
        let at = |on| [check(on, EvidenceSource::DfeTeacherRecord, &[Qts])];
        assert!(!due_dfe_check(&at(d(2025, 6, 15)), today));
        assert!(due_dfe_check(&at(d(2025, 6, 14)), today));
        assert!(due_dfe_check(&[], today));
        let certificate = [check(
            d(2026, 6, 1),
            EvidenceSource::Certificate,
            &[Nasenco],
        )];
        assert!(due_dfe_check(&certificate, today), "only DfE checks count");
    }
}
