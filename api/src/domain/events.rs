//! Events, webhook deliveries and reminders as rules (SPEC 4.11): the kinds of event, the
//! back-off between delivery attempts, which addresses a webhook may never reach, and which
//! reminders fall due in a window of days. No I/O: the store keeps the events, the
//! `events` module delivers them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use chrono::{Days, NaiveDate};

/// What an event announces (SPEC 4.11). Change events are written with their change;
/// reminders come from the daily run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A termly report (a new version of it) was submitted.
    TermlyReportSubmitted,
    /// A SENCO was appointed at a school.
    SencoAppointed,
    /// A SENCO appointment ended.
    SencoAppointmentEnded,
    /// A qualification (or a course under way) was recorded, or its award date set.
    QualificationRecorded,
    /// A governing body signed off a document (4.10).
    SignOffRecorded,
    /// Reminder: an unqualified SENCO's deadline is 90, 30 or 7 days away.
    DeadlineApproaching,
    /// Reminder: the deadline passed yesterday without a counting qualification.
    QualificationOverdue,
    /// Reminder: a projection turned `AT_RISK` (4.8).
    QualificationAtRisk,
    /// Reminder: a report was due yesterday and none was submitted.
    TermlyReportMissing,
    /// Reminder: a shared-SENCO cluster falls due for review today.
    ClusterReviewDue,
    /// Reminder: a governance action passed its due date while open (4.10).
    GovernanceActionOverdue,
}

impl EventType {
    /// Every kind, in the order of SPEC 4.11.
    pub const ALL: [EventType; 11] = [
        Self::TermlyReportSubmitted,
        Self::SencoAppointed,
        Self::SencoAppointmentEnded,
        Self::QualificationRecorded,
        Self::SignOffRecorded,
        Self::DeadlineApproaching,
        Self::QualificationOverdue,
        Self::QualificationAtRisk,
        Self::TermlyReportMissing,
        Self::ClusterReviewDue,
        Self::GovernanceActionOverdue,
    ];

    /// The stored and published name, as the SPEC spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TermlyReportSubmitted => "TERMLY_REPORT_SUBMITTED",
            Self::SencoAppointed => "SENCO_APPOINTED",
            Self::SencoAppointmentEnded => "SENCO_APPOINTMENT_ENDED",
            Self::QualificationRecorded => "QUALIFICATION_RECORDED",
            Self::SignOffRecorded => "SIGN_OFF_RECORDED",
            Self::DeadlineApproaching => "DEADLINE_APPROACHING",
            Self::QualificationOverdue => "QUALIFICATION_OVERDUE",
            Self::QualificationAtRisk => "QUALIFICATION_AT_RISK",
            Self::TermlyReportMissing => "TERMLY_REPORT_MISSING",
            Self::ClusterReviewDue => "CLUSTER_REVIEW_DUE",
            Self::GovernanceActionOverdue => "GOVERNANCE_ACTION_OVERDUE",
        }
    }

    /// The kind a stored name names.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A delivery's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not yet answered with a 2xx; another attempt is scheduled.
    Pending,
    /// A 2xx answered an attempt.
    Delivered,
    /// Retried for the whole retry window without a 2xx; waits for a redelivery.
    Failed,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Delivered => "DELIVERED",
            Self::Failed => "FAILED",
        }
    }

    /// The status a stored name names.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// When attempts are retried: the first retry `first` after the first attempt, each wait
/// twice the one before up to an hour, for `window` after the event was first attempted;
/// after that the delivery is `FAILED` (SPEC 4.11: growing back-off, the first retry within
/// 30 s, for 24 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry.
    pub first: Duration,
    /// How long attempts go on.
    pub window: Duration,
}

/// The longest wait between two attempts.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(5),
            window: Duration::from_secs(24 * 3600),
        }
    }
}

impl Backoff {
    /// The wait after the `attempts`-th failed attempt (1 for the first), or `None` when the
    /// next attempt would fall after the window, counted from the first attempt, `elapsed`
    /// ago; the delivery has then failed.
    pub fn next_wait(self, attempts: u32, elapsed: Duration) -> Option<Duration> {
        let doublings = attempts.saturating_sub(1).min(20);
        let wait = self
            .first
            .saturating_mul(1_u32 << doublings)
            .min(MAX_WAIT.max(self.first));
        (elapsed + wait <= self.window).then_some(wait)
    }
}

/// Whether a webhook may be sent to `ip` (SPEC 4.11): never to a loopback, private,
/// link-local, shared (carrier-grade NAT), unspecified, broadcast, multicast, documentation
/// or cloud-metadata address, whatever form it is written in (an IPv4 address mapped into
/// IPv6 is judged as the IPv4 address).
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    let shared = o[0] == 100 && (64..128).contains(&o[1]);
    let benchmarking = o[0] == 198 && (18..20).contains(&o[1]);
    let reserved = o[0] >= 240;
    // Alibaba's metadata service sits in the shared range; AWS, GCP and Azure use
    // 169.254.169.254, which is link-local.
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || shared
        || benchmarking
        || reserved)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let unique_local = (s[0] & 0xfe00) == 0xfc00;
    let link_local = (s[0] & 0xffc0) == 0xfe80;
    let documentation = s[0] == 0x2001 && s[1] == 0x0db8;
    // NAT64 and IPv4-compatible forms can reach IPv4 hosts: judge the embedded address.
    let nat64 = s[0] == 0x0064 && s[1] == 0xff9b;
    if nat64 {
        let v4 = Ipv4Addr::new(
            (s[6] >> 8) as u8,
            (s[6] & 0xff) as u8,
            (s[7] >> 8) as u8,
            (s[7] & 0xff) as u8,
        );
        return is_public_v4(v4);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || documentation
        || s[..6].iter().all(|x| *x == 0))
}

/// What the daily run knows of one current appointment whose duty applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyFacts {
    /// The appointment.
    pub appointment_id: i64,
    /// Its person.
    pub person_id: i64,
    /// Its school.
    pub school_urn: i32,
    /// When it began.
    pub started_on: NaiveDate,
    /// When it ended, if it has.
    pub ended_on: Option<NaiveDate>,
    /// The deadline of SPEC 4.4 (4).
    pub deadline: NaiveDate,
    /// When the person's first counting award was made, if ever.
    pub qualified_on: Option<NaiveDate>,
}

/// A reminder that falls due: its kind, the school it is about, the key naming its subject
/// and occasion (unique: raising it twice stores it once), and its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Reminder {
    /// The kind.
    pub kind: EventType,
    /// The school it concerns.
    pub school_urn: i32,
    /// Subject and occasion.
    pub key: String,
    /// What the event carries: ids, dates and figures.
    pub data: serde_json::Value,
}

/// Days before an unqualified deadline on which `DEADLINE_APPROACHING` is raised.
pub const DEADLINE_REMINDER_DAYS: [u64; 3] = [90, 30, 7];

/// The qualification reminders whose day falls in `(after, on]` for an appointment, judged
/// as of `on` (a run catching up several missed days raises each once, and only while it
/// still holds): `DEADLINE_APPROACHING` 90, 30 and 7 days before a deadline still ahead and
/// unqualified, `QUALIFICATION_OVERDUE` the day after a deadline passed unqualified.
pub fn duty_reminders(f: &DutyFacts, after: NaiveDate, on: NaiveDate) -> Vec<Reminder> {
    let current = f.started_on <= on && f.ended_on.is_none_or(|e| e >= on);
    let qualified = f.qualified_on.is_some_and(|q| q <= on);
    if !current || qualified {
        return Vec::new();
    }
    let in_window = |d: Option<NaiveDate>| d.is_some_and(|d| after < d && d <= on);
    let data = |days_before: Option<u64>| {
        let mut v = serde_json::json!({
            "appointmentId": f.appointment_id.to_string(),
            "personId": f.person_id.to_string(),
            "deadline": f.deadline,
        });
        if let Some(d) = days_before {
            v["daysBefore"] = d.into();
        }
        v
    };
    let mut out = Vec::new();
    if f.deadline >= on {
        for days in DEADLINE_REMINDER_DAYS {
            if in_window(f.deadline.checked_sub_days(Days::new(days))) {
                out.push(Reminder {
                    kind: EventType::DeadlineApproaching,
                    school_urn: f.school_urn,
                    key: format!(
                        "DEADLINE_APPROACHING:{}:{}:{days}",
                        f.appointment_id, f.deadline
                    ),
                    data: data(Some(days)),
                });
            }
        }
    }
    if in_window(f.deadline.checked_add_days(Days::new(1))) {
        out.push(Reminder {
            kind: EventType::QualificationOverdue,
            school_urn: f.school_urn,
            key: format!("QUALIFICATION_OVERDUE:{}:{}", f.appointment_id, f.deadline),
            data: data(None),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_event_type_round_trips_its_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("NOPE"), None);
    }

    #[test]
    fn the_first_retry_comes_within_30_seconds_and_waits_grow_until_the_window_closes() {
        let b = Backoff::default();
        let first = b.next_wait(1, Duration::ZERO).unwrap();
        assert!(first <= Duration::from_secs(30));
        let mut elapsed = first;
        let mut last = first;
        let mut attempts = 1;
        while let Some(w) = b.next_wait(attempts + 1, elapsed) {
            assert!(w >= last, "waits never shrink");
            assert!(w <= MAX_WAIT);
            last = w;
            elapsed += w;
            attempts += 1;
        }
        assert!(elapsed <= b.window);
        assert!(
            elapsed + MAX_WAIT > b.window,
            "retries go on for the whole window"
        );
        assert!(attempts > 20, "{attempts} attempts in a day");
    }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public_address(ip.parse().unwrap()), "{ip}");
        }
    }

    fn facts(deadline: &str) -> DutyFacts {
        DutyFacts {
            appointment_id: 7,
            person_id: 3,
            school_urn: 100001,
            started_on: d("2023-09-01"),
            ended_on: None,
            deadline: d(deadline),
            qualified_on: None,
        }
    }

    #[test]
    fn deadline_reminders_fall_90_30_and_7_days_before_and_overdue_the_day_after() {
        let f = facts("2026-09-01");
        let on = |day: &str| {
            let day = d(day);
            duty_reminders(&f, day.pred_opt().unwrap(), day)
        };
        assert_eq!(on("2026-06-03")[0].data["daysBefore"], 90);
        assert_eq!(on("2026-08-02")[0].data["daysBefore"], 30);
        assert_eq!(on("2026-08-25")[0].data["daysBefore"], 7);
        assert!(on("2026-08-24").is_empty());
        assert!(
            on("2026-09-01").is_empty(),
            "the deadline day itself is not overdue"
        );
        let overdue = on("2026-09-02");
        assert_eq!(overdue.len(), 1);
        assert_eq!(overdue[0].kind, EventType::QualificationOverdue);
    }

    #[test]
    fn a_run_catching_up_missed_days_raises_each_reminder_once_with_a_stable_key() {
        let f = facts("2026-09-01");
        let caught = duty_reminders(&f, d("2026-08-01"), d("2026-08-30"));
        assert_eq!(caught.len(), 2, "{caught:?}");
        let again = duty_reminders(&f, d("2026-08-20"), d("2026-08-30"));
        assert_eq!(again.len(), 1);
        assert!(caught.iter().any(|r| r.key == again[0].key));
    }

    #[test]
    fn no_reminders_for_a_qualified_or_departed_senco() {
        let mut f = facts("2026-09-01");
        f.qualified_on = Some(d("2026-01-01"));
        assert!(duty_reminders(&f, d("2026-08-01"), d("2026-09-10")).is_empty());
        let mut f = facts("2026-09-01");
        f.ended_on = Some(d("2026-07-31"));
        assert!(duty_reminders(&f, d("2026-08-01"), d("2026-09-10")).is_empty());
    }
}
