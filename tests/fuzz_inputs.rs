//! Bad input (SPEC 4.5, 5 and 6), property-style: for every mutation of `schema.graphql`, a
//! valid base input, then a few hundred inputs with one field (or nested field) replaced by a
//! hostile value: long random strings, control characters, unicode, blanks, extreme and
//! fractional numbers, NaN-like strings, impossible dates, wrong JSON types, missing and null
//! required fields, and money strings a dashboard might send by mistake.
//!
//! For each case: HTTP 200 or 400, never 5xx; no `INTERNAL_SERVER_ERROR`; every error has an
//! `extensions.code`, and a `BAD_USER_INPUT` an `extensions.field` naming the field (or a
//! related one the rule is about); a refusal leaves the target's audit log and rows exactly as
//! they were; an accepted value must be valid and must round-trip.
//!
//! The values come from fixed lists and a small xorshift generator with fixed seeds, so a
//! failure reproduces: every failure names the mutation, seed, case number, field and value.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use common::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// A small deterministic generator
// ---------------------------------------------------------------------------------------

/// xorshift64: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
}

fn random_char(r: &mut Rng) -> char {
    let cp = match r.below(10) {
        0 => r.below(0x20) as u32,            // C0 controls
        1 => 0x7f + r.below(0x21) as u32,     // DEL and C1 controls
        2..=5 => 0x20 + r.below(0x5f) as u32, // printable ASCII
        6 => 0xa0 + r.below(0x700) as u32,    // Latin, Greek, Cyrillic ...
        7 => [0x200b, 0x202e, 0xfeff, 0x2028, 0xfffd, 0x0301][r.below(6) as usize],
        8 => 0x4e00 + r.below(0x5000) as u32, // CJK
        _ => 0x1f600 + r.below(0x50) as u32,  // emoji (astral plane)
    };
    char::from_u32(cp).unwrap_or('?')
}

fn random_string(r: &mut Rng) -> String {
    let len = match r.below(10) {
        0 => 0,
        1..=6 => 1 + r.below(20) as usize,
        7 | 8 => r.below(400) as usize,
        _ => 9_990 + r.below(20) as usize,
    };
    (0..len).map(|_| random_char(r)).collect()
}

// ---------------------------------------------------------------------------------------
// What a field accepts
// ---------------------------------------------------------------------------------------

/// Today in Europe/London, as the server reckons it.
fn today() -> NaiveDate {
    api::graphql::today()
}

#[derive(Clone, Copy, Debug)]
enum Bound {
    Fixed(&'static str),
    /// Today plus this many days.
    Today(i64),
}

impl Bound {
    fn date(self) -> Option<NaiveDate> {
        match self {
            Bound::Fixed(s) => Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()),
            Bound::Today(d) => Some(today() + chrono::Duration::days(d)),
        }
    }
}

#[derive(Clone, Debug)]
enum Kind {
    /// A single-line name: trimmed, not blank, no control characters.
    Name,
    /// Free text up to `max` characters, no control characters but line breaks and tabs;
    /// `trims`: stored trimmed, blank as null.
    Text {
        max: usize,
        trims: bool,
    },
    /// Seven digits once trimmed (SPEC 4.2).
    Trn,
    Email,
    /// An idempotency key.
    Key,
    /// A whole number in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    /// A whole number that must also name an existing row; `known` do.
    Existing {
        min: i64,
        max: i64,
        known: &'static [i64],
    },
    Float {
        min: f64,
        max: f64,
    },
    Bool,
    Enum(&'static [&'static str]),
    /// A date; outside `min`/`max` is invalid when the bound is a documented rule, and only
    /// questionable (reported, not failed) when it is not.
    Date {
        min: (Bound, bool),
        max: (Bound, bool),
    },
    /// SPEC 4.5: a string, at most two decimals, 0 to 1,000,000,000.00.
    Money,
    /// The id of the row the mutation is about.
    Id(String),
    /// The school the mutation is about; the hostile values name none that exists.
    Urn,
    /// A cluster's members: two or more of `own`, none twice.
    Urns(Vec<i32>),
    /// The report's current version.
    Version,
    /// A webhook URL: `http` or `https` with a host, at most 2,000 characters once trimmed
    /// (the fuzz server allows private addresses, so only the form is judged).
    Url,
    /// A whole input object.
    Object,
}

/// What `null` (or leaving the field out) means.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Null {
    /// A required field.
    Invalid,
    /// Stored as null.
    Clears,
    /// Left as it was.
    Unchanged,
    /// The documented default.
    Default,
}

#[derive(Clone, Debug)]
struct Field {
    /// Path inside `input`.
    path: Vec<&'static str>,
    kind: Kind,
    null: Null,
    /// Where the stored value comes back, as a path in the mutation's result (`*` matches
    /// any element of an array).
    out: Option<&'static str>,
    default_out: Value,
    /// Other fields a refusal may name, because the rule broken is about both.
    alt_fields: Vec<&'static str>,
    /// Refusals other than `BAD_USER_INPUT` that fit (an id that names nothing, a school the
    /// token may not write, a stale version).
    alt_codes: Vec<&'static str>,
}

impl Field {
    fn new(path: &str, kind: Kind, null: Null) -> Self {
        let path: Vec<&'static str> = path
            .split('.')
            .map(|s| &*Box::leak(s.to_owned().into_boxed_str()))
            .collect();
        let alt_codes = match kind {
            Kind::Id(_) => vec!["NOT_FOUND"],
            Kind::Urn | Kind::Urns(_) => vec!["NOT_FOUND", "FORBIDDEN"],
            Kind::Version => vec!["CONFLICT"],
            _ => vec![],
        };
        Field {
            path,
            kind,
            null,
            out: None,
            default_out: Value::Null,
            alt_fields: vec![],
            alt_codes,
        }
    }
    fn out(mut self, p: &'static str) -> Self {
        self.out = Some(p);
        self
    }
    fn default(mut self, v: Value) -> Self {
        self.default_out = v;
        self
    }
    fn alt(mut self, f: &'static str) -> Self {
        self.alt_fields.push(f);
        self
    }
    fn code(mut self, c: &'static str) -> Self {
        self.alt_codes.push(c);
        self
    }
    fn name(&self) -> String {
        format!("input.{}", self.path.join("."))
    }
}

#[derive(Debug, PartialEq)]
enum Verdict {
    Valid,
    Invalid(String),
    Questionable(String),
}

fn is_whole(v: &Value) -> Option<i64> {
    v.as_i64().filter(|_| v.is_i64() || v.is_u64())
}

fn judge(f: &Field, v: &Value, version: i64) -> Verdict {
    use Verdict::*;
    if v.is_null() {
        return match f.null {
            Null::Invalid => Invalid("null for a required field".into()),
            _ => Valid,
        };
    }
    let s = v.as_str();
    match &f.kind {
        Kind::Name => {
            let Some(s) = s else {
                return Invalid("not a string".into());
            };
            let t = s.trim();
            if t.is_empty() {
                Invalid("blank".into())
            } else if t.chars().count() > 10_000 {
                Invalid("over 10,000 characters".into())
            } else if t
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                Invalid("control characters".into())
            } else if t.chars().any(char::is_control) {
                Questionable("a line break or tab in a one-line name".into())
            } else if t.chars().count() > 200 {
                Questionable("a name over 200 characters".into())
            } else {
                Valid
            }
        }
        Kind::Text { max, .. } => {
            let Some(s) = s else {
                return Invalid("not a string".into());
            };
            if s.chars().count() > *max {
                Invalid(format!("over {max} characters"))
            } else if s
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                Invalid("control characters other than line breaks and tabs".into())
            } else {
                Valid
            }
        }
        Kind::Trn => match s {
            Some(s) if s.trim().len() == 7 && s.trim().bytes().all(|b| b.is_ascii_digit()) => Valid,
            _ => Invalid("not seven digits".into()),
        },
        Kind::Email => {
            let Some(s) = s else {
                return Invalid("not a string".into());
            };
            let t = s.trim();
            let plausible = t.len() <= 254
                && !t.chars().any(|c| c.is_whitespace() || c.is_control())
                && t.split_once('@').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && b.contains('.')
                        && !b.starts_with('.')
                        && !b.ends_with('.')
                        && !b.contains('@')
                });
            if plausible {
                Valid
            } else if t.contains('@') && !t.chars().any(char::is_control) {
                Questionable("an odd e-mail address".into())
            } else {
                Invalid("not an e-mail address".into())
            }
        }
        Kind::Key => match s {
            Some("") => Invalid("empty".into()),
            Some(k) if k.chars().any(char::is_control) => Invalid("control characters".into()),
            Some(k) if k.len() > 200 => Questionable("a key over 200 bytes".into()),
            Some(_) => Valid,
            None => Invalid("not a string".into()),
        },
        Kind::Int { min, max } | Kind::Existing { min, max, .. } => match is_whole(v) {
            Some(i) if i32::try_from(i).is_err() => Invalid("outside Int".into()),
            Some(i) if (*min..=*max).contains(&i) => match &f.kind {
                Kind::Existing { known, .. } if !known.contains(&i) => {
                    Questionable(format!("{i} may name nothing"))
                }
                _ => Valid,
            },
            Some(i) => Invalid(format!("{i} outside {min}..={max}")),
            None if v.as_f64().is_some_and(|x| x.fract() == 0.0) => {
                Questionable("a whole number sent as a float".into())
            }
            None => Invalid("not a whole number".into()),
        },
        Kind::Float { min, max } => match v.as_f64() {
            Some(x) if x.is_finite() && (*min..=*max).contains(&x) => Valid,
            Some(x) => Invalid(format!("{x} outside {min}..={max}")),
            None => Invalid("not a number".into()),
        },
        Kind::Bool => {
            if v.is_boolean() {
                Valid
            } else {
                Invalid("not a boolean".into())
            }
        }
        Kind::Enum(values) => match s {
            Some(s) if values.contains(&s) => Valid,
            _ => Invalid("not one of the enum's values".into()),
        },
        Kind::Date { min, max } => {
            let Some(s) = s else {
                return Invalid("not a string".into());
            };
            let shaped = s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            let Some(d) = shaped
                .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .flatten()
            else {
                return Invalid("not a YYYY-MM-DD date".into());
            };
            for (bound, documented, below) in [(min.0, min.1, true), (max.0, max.1, false)] {
                if let Some(b) = bound.date()
                    && (if below { d < b } else { d > b })
                {
                    let why = format!("{d} is {} {b}", if below { "before" } else { "after" });
                    return if documented {
                        Invalid(why)
                    } else {
                        Questionable(why)
                    };
                }
            }
            Valid
        }
        Kind::Money => match s {
            Some(m) => match money_pence(m) {
                Some(p) if p <= 100_000_000_000 => Valid,
                Some(_) => Invalid("over 1,000,000,000.00".into()),
                None => Invalid("not a money string".into()),
            },
            None => Invalid("money must be a string".into()),
        },
        Kind::Id(base) => {
            if s == Some(base.as_str()) || is_whole(v).map(|i| i.to_string()).as_ref() == Some(base)
            {
                Valid
            } else if s
                .and_then(|x| x.parse::<i64>().ok())
                .map(|i| i.to_string())
                .as_ref()
                == Some(base)
            {
                Questionable("another spelling of the same id".into())
            } else {
                Invalid("names no row of this test".into())
            }
        }
        Kind::Urn => Invalid("names no school this token may write".into()),
        Kind::Urns(own) => {
            let Some(a) = v.as_array() else {
                return Invalid("not a list".into());
            };
            let urns: Vec<Option<i64>> = a.iter().map(is_whole).collect();
            let set: BTreeSet<i64> = urns.iter().flatten().copied().collect();
            if a.len() >= 2
                && urns
                    .iter()
                    .all(|u| u.is_some_and(|u| own.contains(&(u as i32))))
                && set.len() == a.len()
            {
                Valid
            } else {
                Invalid("not two or more distinct member schools".into())
            }
        }
        Kind::Version => {
            if is_whole(v) == Some(version) {
                Valid
            } else {
                Invalid("not the current version".into())
            }
        }
        Kind::Url => {
            let Some(s) = s else {
                return Invalid("not a string".into());
            };
            let t = s.trim();
            if t.chars().any(char::is_control) {
                return Invalid("control characters".into());
            }
            match reqwest::Url::parse(t) {
                Ok(u)
                    if t.chars().count() <= 2000
                        && matches!(u.scheme(), "http" | "https")
                        && u.host_str().is_some_and(|h| !h.is_empty()) =>
                {
                    Valid
                }
                _ => Invalid("not an http(s) URL with a host".into()),
            }
        }
        Kind::Object => Invalid("not the input object".into()),
    }
}

/// `^[0-9]+(\.[0-9]{1,2})?$` in pence.
fn money_pence(s: &str) -> Option<i128> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || (s.contains('.') && !(1..=2).contains(&frac.len()))
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let w: i128 = whole.trim_start_matches('0').parse().unwrap_or(0);
    if whole.trim_start_matches('0').len() > 20 {
        return Some(i128::MAX);
    }
    let f: i128 = format!("{frac:0<2}").parse().unwrap_or(0);
    Some(w * 100 + f)
}

/// What the result should show for an accepted value; `None` when nothing is checked.
fn expected_out(f: &Field, v: &Value) -> Option<Value> {
    if v.is_null() {
        return match f.null {
            Null::Clears => Some(Value::Null),
            Null::Default => Some(f.default_out.clone()),
            _ => None,
        };
    }
    match &f.kind {
        Kind::Name | Kind::Trn | Kind::Email | Kind::Url => Some(json!(v.as_str()?.trim())),
        Kind::Text { trims: true, .. } => {
            let t = v.as_str()?.trim();
            Some(if t.is_empty() { Value::Null } else { json!(t) })
        }
        Kind::Text { trims: false, .. } => Some(v.clone()),
        Kind::Int { .. } | Kind::Existing { .. } | Kind::Float { .. } | Kind::Bool => {
            Some(v.clone())
        }
        Kind::Enum(_) | Kind::Date { .. } => Some(v.clone()),
        Kind::Money => {
            let p = money_pence(v.as_str()?)?;
            Some(json!(format!("{}.{:02}", p / 100, p % 100)))
        }
        _ => None,
    }
}

/// Values at a slash path in `v`; `*` walks every element of an array.
fn at<'a>(v: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur = vec![v];
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        cur = cur
            .into_iter()
            .flat_map(|x| -> Vec<&Value> {
                if seg == "*" {
                    x.as_array().map(|a| a.iter().collect()).unwrap_or_default()
                } else if let (Some(a), Ok(i)) = (x.as_array(), seg.parse::<usize>()) {
                    vec![a.get(i).unwrap_or(&Value::Null)]
                } else {
                    vec![x.get(seg).unwrap_or(&Value::Null)]
                }
            })
            .collect();
    }
    cur
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------------------

fn date_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn strings(r: &mut Rng) -> Vec<Value> {
    let mut v: Vec<Value> = [
        "",
        " ",
        "   \t  ",
        "\n",
        "\r\n",
        "a\u{0}b",
        "\u{7}bell",
        "\u{1b}[31mred",
        "del\u{7f}",
        "c1\u{85}",
        "line\nbreak",
        "tab\there",
        " padded ",
        "Zoë Ångström",
        "日本語のテキスト",
        "🎉🎉",
        "\u{202e}evil",
        "zero\u{200b}width",
        "e\u{301}",
        "\u{feff}bom",
        "'; DROP TABLE person; --",
        "%_\\",
        "<script>alert(1)</script>",
        "null",
        "NaN",
    ]
    .iter()
    .map(|s| json!(s))
    .collect();
    for (ch, n) in [
        ("a", 200),
        ("a", 201),
        ("a", 1000),
        ("a", 1001),
        ("a", 10_000),
        ("a", 10_001),
        ("é", 10_000),
        ("😀", 10_001),
    ] {
        v.push(json!(ch.repeat(n)));
    }
    for _ in 0..5 {
        v.push(json!(random_string(r)));
    }
    v.extend([
        json!(0),
        json!(1.5),
        json!(true),
        json!({}),
        json!([]),
        json!(["a"]),
    ]);
    v
}

fn trns(r: &mut Rng, stream: u64) -> Vec<Value> {
    // Valid TRNs are this stream's own, so no two streams ever link the same person.
    let own = |k: u64| format!("9{stream:02}{k:04}");
    let mut v: Vec<Value> = vec![
        json!(own(1)),
        json!(format!(" {} ", own(2))),
        json!(format!("\t{}\n", own(3))),
        json!("123456"),
        json!("12345678"),
        json!("12345a7"),
        json!("123 4567"),
        json!("１２３４５６７"),
        json!("+123456"),
        json!("-123456"),
        json!("1e6"),
        json!(""),
        json!("0000000\u{0}"),
        json!(1_234_567),
    ];
    for k in 0..3 {
        v.push(json!(format!(
            "{}",
            9_500_000 + stream * 1000 + r.below(1000) + k
        )));
    }
    v.extend(strings(r).into_iter().take(12));
    v
}

fn emails(r: &mut Rng) -> Vec<Value> {
    let mut v: Vec<Value> = [
        "a@b.example",
        " x@y.example ",
        "no-at-sign",
        "@nolocal.example",
        "a@nodot",
        "a@.x",
        "a@x.",
        "a@@b.example",
        "a b@c.example",
        "a@b.example\n",
        "a\u{0}@b.example",
        "émile@école.example",
        "a@b.c",
    ]
    .iter()
    .map(|s| json!(s))
    .collect();
    v.push(json!(format!("{}@example.org", "a".repeat(250))));
    v.extend(strings(r).into_iter().take(10));
    v
}

fn keys(r: &mut Rng) -> Vec<Value> {
    let mut v: Vec<Value> = vec![
        json!("retry-1"),
        json!(""),
        json!(" "),
        json!("k\u{0}"),
        json!("a".repeat(200)),
        json!("a".repeat(201)),
        json!("鍵🔑"),
    ];
    for _ in 0..3 {
        v.push(json!(format!("rnd-{}", r.next())));
    }
    v.extend([json!(5), json!(true), json!({})]);
    v
}

fn ints(r: &mut Rng, avoid: &BTreeSet<i64>) -> Vec<Value> {
    let mut v: Vec<Value> = vec![
        json!(0),
        json!(-1),
        json!(1),
        json!(2),
        json!(12),
        json!(60),
        json!(61),
        json!(99),
        json!(100),
        json!(999),
        json!(1000),
        json!(2008),
        json!(2009),
        json!(today().year() + 1),
        json!(today().year() + 2),
        json!(10_000),
        json!(10_001),
        json!(99_999),
        json!(100_000),
        json!(999_999),
        json!(1_000_000),
        json!(i32::MAX),
        json!(i32::MIN),
        json!(i64::from(i32::MAX) + 1),
        json!(i64::from(i32::MIN) - 1),
        json!(u64::MAX),
        json!(1e308),
        json!(-1e308),
        json!(1.5),
        json!(2.0),
        json!(-0.0),
        json!("1"),
        json!("NaN"),
        json!("Infinity"),
        json!("1e3"),
        json!(""),
        json!(true),
        json!({}),
        json!([1]),
    ];
    for _ in 0..4 {
        let x = match r.below(3) {
            0 => r.range(i64::from(i32::MIN), i64::from(i32::MAX)),
            1 => r.range(-100, 1000),
            // URN-shaped, in a range the `urns` values never use.
            _ => r.range(500_000, 599_999),
        };
        v.push(json!(x));
    }
    v.retain(|x| is_whole(x).is_none_or(|i| !avoid.contains(&i)));
    v
}

fn floats(r: &mut Rng) -> Vec<Value> {
    let mut v: Vec<Value> = vec![
        json!(0),
        json!(-0.0),
        json!(0.2),
        json!(1),
        json!(1.000_000_1),
        json!(-0.01),
        json!(60),
        json!(60.000_1),
        json!(1e-300),
        json!(5e-324),
        json!(1e308),
        json!(-1e308),
        json!(i32::MAX),
        json!(u64::MAX),
        json!("NaN"),
        json!("Infinity"),
        json!("-Infinity"),
        json!("1.5"),
        json!(""),
        json!(true),
        json!({}),
        json!([]),
    ];
    for _ in 0..4 {
        v.push(json!((r.range(-10_000, 100_000) as f64) / 1000.0));
    }
    v
}

fn dates(r: &mut Rng) -> Vec<Value> {
    let t = today();
    let mut v: Vec<Value> = [
        "2025-02-30",
        "2025-13-01",
        "2025-00-10",
        "2025-04-31",
        "0000-00-00",
        "yesterday",
        "2025-1-1",
        "20250101",
        "2025/01/01",
        "01-02-2025",
        "2025-01-01T00:00:00Z",
        " 2025-01-01",
        "2025-01-01 ",
        "+2025-01-01",
        "-001-01-01",
        "２０２５-01-01",
        "",
        "9999-12-31",
        "0001-01-01",
        "1969-12-31",
        "1970-01-01",
        "1989-12-31",
        "1990-01-01",
        "2008-12-31",
        "2024-02-29",
        "2023-02-29",
        "2024-09-01",
        "2024-09-02",
        "2025-06-01",
        "2100-01-01",
    ]
    .iter()
    .map(|s| json!(s))
    .collect();
    for d in [-1, 0, 1, 366, 367] {
        v.push(json!(date_str(t + chrono::Duration::days(d))));
    }
    for _ in 0..4 {
        v.push(json!(format!(
            "{:04}-{:02}-{:02}",
            r.range(0, 9999),
            r.range(0, 13),
            r.range(0, 32)
        )));
    }
    v.push(json!(date_str(
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::days(r.range(0, 10_000))
    )));
    v.extend([
        json!(20_250_101),
        json!(true),
        json!({}),
        json!(["2025-01-01"]),
    ]);
    v
}

fn moneys(r: &mut Rng) -> Vec<Value> {
    let mut v: Vec<Value> = [
        "1e3",
        "-0.01",
        "£5",
        "1,000",
        "0.001",
        "1000000000.00",
        "1000000000.01",
        "999999999999999999999999",
        "NaN",
        "Infinity",
        "",
        " 5",
        "5 ",
        "+5",
        "05",
        ".5",
        "5.",
        "0x10",
        "١٢٣",
        "1250",
        "1250.5",
        "1250.50",
        "0",
        "0.00",
        "-0",
        "1_000",
        "5.5.5",
    ]
    .iter()
    .map(|s| json!(s))
    .collect();
    v.extend([json!(12.5), json!(1250), json!(0), json!(true), json!({})]);
    for _ in 0..4 {
        let digits: String = (0..1 + r.below(14))
            .map(|_| char::from(b'0' + r.below(10) as u8))
            .collect();
        let frac: String = (0..r.below(4))
            .map(|_| char::from(b'0' + r.below(10) as u8))
            .collect();
        v.push(json!(if frac.is_empty() {
            digits
        } else {
            format!("{digits}.{frac}")
        }));
    }
    v
}

fn bools() -> Vec<Value> {
    vec![
        json!(true),
        json!(false),
        json!("true"),
        json!("false"),
        json!(1),
        json!(0),
        json!("yes"),
        json!(""),
        json!({}),
        json!([]),
    ]
}

fn enums(values: &[&str]) -> Vec<Value> {
    let mut v: Vec<Value> = values.iter().map(|s| json!(s)).collect();
    let first = values[0];
    v.extend([
        json!(first.to_lowercase()),
        json!(format!("{first} ")),
        json!(""),
        json!("DROP"),
        json!(1),
        json!(true),
        json!({}),
        json!([first]),
    ]);
    v
}

/// Webhook URLs, every one on this machine or malformed: a fuzzed webhook must never send
/// anything elsewhere.
fn urls() -> Vec<Value> {
    [
        "http://127.0.0.1:9/fuzz",
        " https://127.0.0.1:9/fuzz ",
        "http://localhost:9/a?b=c#d",
        "http://[::1]:9/",
        "http://user:pass@127.0.0.1:9/",
        "http://127.0.0.1:9/\u{202e}",
        "ftp://127.0.0.1/fuzz",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "http://",
        "http:///path",
        "//127.0.0.1:9/",
        "127.0.0.1:9",
        "",
        "   ",
        "not a url",
        "http://127.0.0.1:9/\u{0}",
    ]
    .into_iter()
    .map(|u| json!(u))
    .chain([
        json!(format!("http://127.0.0.1:9/{}", "a".repeat(2000))),
        json!(5),
        json!(true),
        json!(["http://127.0.0.1:9/"]),
    ])
    .collect()
}

fn ids(base: &str) -> Vec<Value> {
    let n: i64 = base.parse().unwrap();
    vec![
        json!(""),
        json!(" "),
        json!("0"),
        json!("-1"),
        json!("abc"),
        json!("1e3"),
        json!("0x1"),
        json!("9223372036854775807"),
        json!("9223372036854775808"),
        json!("99999999999999999999"),
        json!(format!("+{base}")),
        json!(format!(" {base}")),
        json!(format!("{base} ")),
        json!(format!("{base}.0")),
        json!(format!("0{base}")),
        json!(format!("{base}abc")),
        json!(format!("{base}\u{0}")),
        json!(n),
        json!(0),
        json!(999_999_999),
        json!(1.5),
        json!(true),
        json!({}),
        json!([base]),
    ]
}

fn urns(r: &mut Rng) -> Vec<Value> {
    let mut v = vec![
        json!(0),
        json!(-1),
        json!(1),
        json!(99_999),
        json!(100_000),
        json!(999_999),
        json!(1_000_000),
        json!(i32::MAX),
        json!(i32::MIN),
        json!("300001"),
        json!(300_001.5),
        json!(true),
        json!({}),
    ];
    for _ in 0..3 {
        v.push(json!(r.range(100_001, 199_999)));
    }
    let world = world_urns();
    v.retain(|x| is_whole(x).is_none_or(|i| !world.contains(&i)));
    v
}

fn urn_lists(own: &[i32]) -> Vec<Value> {
    let (a, b) = (own[0], own[1]);
    vec![
        json!([]),
        json!([a]),
        json!([a, a]),
        json!([b, a]),
        json!([a, b, 999_999]),
        json!([a, b, 0]),
        json!((0..51).map(|i| 900_000 + i).collect::<Vec<i32>>()),
        json!([a, "x"]),
        json!([a, null]),
        json!([a, 1.5]),
        json!(a),
        json!("a"),
        json!({}),
    ]
}

/// Every hostile value for a field, plus `null`.
fn values_for(f: &Field, r: &mut Rng, stream: u64, avoid: &BTreeSet<i64>) -> Vec<Value> {
    let mut v = match &f.kind {
        Kind::Name | Kind::Text { .. } => strings(r),
        Kind::Trn => trns(r, stream),
        Kind::Email => emails(r),
        Kind::Key => keys(r),
        // A URN-shaped field may create a school: never one of the world's, nor one the
        // other mutations' cases use for "no such school".
        Kind::Int { min, .. } if *min >= 100_000 => ints(r, avoid),
        Kind::Int { .. } | Kind::Existing { .. } | Kind::Version => ints(r, &BTreeSet::new()),
        Kind::Float { .. } => floats(r),
        Kind::Bool => bools(),
        Kind::Enum(values) => enums(values),
        Kind::Date { .. } => dates(r),
        Kind::Money => moneys(r),
        Kind::Id(base) => ids(base),
        Kind::Urn => urns(r),
        Kind::Urns(own) => urn_lists(own),
        Kind::Url => urls(),
        Kind::Object => vec![json!("x"), json!(5), json!([]), json!({}), json!(true)],
    };
    v.push(Value::Null);
    v
}

// ---------------------------------------------------------------------------------------
// The mutations
// ---------------------------------------------------------------------------------------

const INDUCTION: &[&str] = &["COMPLETED", "IN_PROGRESS", "NOT_STARTED", "NOT_REQUIRED"];
const QUAL_KINDS: &[&str] = &["NASENCO", "NPQ_SENCO"];
const TERMS: &[&str] = &["AUTUMN", "SPRING", "SUMMER"];
const PHASES: &[&str] = &[
    "NURSERY",
    "PRIMARY",
    "MIDDLE",
    "SECONDARY",
    "ALL_THROUGH",
    "SIXTEEN_PLUS",
    "NOT_APPLICABLE",
];
const SCHOOL_KINDS: &[&str] = &[
    "MAINSTREAM",
    "MAINTAINED_NURSERY",
    "SPECIAL",
    "ALTERNATIVE_PROVISION",
    "INDEPENDENT",
    "OTHER",
];

/// The schools of the world, one set per mutation so streams never touch each other's rows.
const S_APPOINT: i32 = 300_001;
const S_UPDATE_APPT: i32 = 300_002;
const S_END_APPT: i32 = 300_003;
const S_PERSON: i32 = 300_004;
const S_PRIOR: i32 = 300_005;
const S_RECORD_QUAL: i32 = 300_006;
const S_UPDATE_QUAL: i32 = 300_007;
/// Three schools, so the report's many fields are fuzzed in three streams at once.
const S_REPORTS: [i32; 3] = [300_008, 300_016, 300_017];
const S_CREATE_CLUSTER: [i32; 2] = [300_009, 300_010];
const S_UPDATE_CLUSTER: [i32; 2] = [300_011, 300_012];
const S_REVIEW: [i32; 2] = [300_013, 300_014];
const S_UPSERT: i32 = 300_015;
const S_EVIDENCE: i32 = 300_018;
const EVIDENCE_SOURCES: &[&str] = &["DFE_TEACHER_RECORD", "CERTIFICATE", "OTHER"];
/// Mutations whose only arguments are scalars, not an `input` object: fuzzed by a test of
/// their own.
const ARGUMENT_ONLY: [&str; 1] = ["deleteNpqCohort"];
/// The governing body's side (SPEC 4.10): one school per mutation.
const S_MEETING: i32 = 300_019;
const S_UPDATE_MEETING: i32 = 300_020;
const S_ACTION: i32 = 300_021;
const S_UPDATE_ACTION: i32 = 300_022;
const S_SIGN_OFF: i32 = 300_023;
const DOCUMENTS: &[&str] = &["TERMLY_REPORT", "SEN_INFORMATION_REPORT", "SEN_POLICY"];
const ROLES: &[&str] = &["CHAIR", "SEN_GOVERNOR", "TRUSTEE", "OTHER"];
const STATUSES: &[&str] = &["OPEN", "DONE", "DROPPED"];

fn governor(urn: i32) -> String {
    token("fuzz-governor", &format!("school:{urn}:govern"))
}

fn meeting_base(urn: i32) -> Value {
    json!({ "schoolUrn": urn, "heldOn": "2025-10-01", "nextMeetingOn": "2026-02-01",
            "attendees": [{ "name": "Fuzz Senco", "role": "SENCO" }],
            "items": [{ "title": "Fuzz item", "keyPoints": "Fuzz points" }] })
}

fn action_base() -> Value {
    json!({ "area": "Fuzz area", "description": "Fuzz action", "owner": "SENCO",
            "dueOn": "2026-05-01", "status": "DONE", "completedOn": "2026-04-01",
            "cost": "250.50", "timeHours": 4.5, "successCriteria": "Fuzz criteria",
            "monitoring": "Fuzz monitoring", "evaluation": "Fuzz evaluation" })
}
const FUZZ_LA: i32 = 301;
const FUZZ_TRUST: i32 = 3001;
const WORLD_LAS: [i32; 2] = [202, 203];
const WORLD_TRUST: i32 = 2044;

fn world_urns() -> BTreeSet<i64> {
    (300_001..=300_023).collect()
}

/// URNs the hostile values use for "no such school": never created by upsertSchool's cases.
const NO_SUCH_URNS: [i64; 4] = [99_999, 100_000, 999_999, 1_000_000];

/// What to read, as `admin`, to tell whether a refused mutation wrote anything.
#[derive(Clone, Debug)]
enum Snap {
    /// Audit log totals, appointments (with their people), reports and clusters of these.
    Schools(Vec<i32>),
    /// Every LA, and the LA audit rows.
    Las,
    /// Every trust, and the trust audit rows.
    Trusts,
    /// The NPQ cohort calendar, and its audit rows.
    Calendar,
    /// The webhooks `token` sees (only `id`, when given), and the webhook audit rows
    /// written by `actor`: streams that run side by side see only their own.
    Webhooks {
        token: String,
        actor: &'static str,
        id: Option<String>,
    },
}

/// Per-case adjustments to the base input.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Refresh {
    None,
    /// A TRN no one has, so each accepted case creates its own person.
    FreshTrn,
    /// `expectedVersion` from the snapshot.
    Version,
    /// A new open appointment whenever one was ended.
    OpenAppointment,
}

struct Stream {
    mutation: &'static str,
    query: String,
    token: String,
    base: Value,
    fields: Vec<Field>,
    snap: Snap,
    refresh: Refresh,
    seed: u64,
}

fn report_base(urn: i32) -> Value {
    json!({
        "schoolUrn": urn, "academicYear": 2024, "term": "AUTUMN", "expectedVersion": 1,
        "numberOnRoll": 200, "pupilsWithSend": 20, "senSupport": 12, "ehcp": 3,
        "ehcpApplicationsInProcess": 1, "budgetE1": "1000", "budgetE2": "500.50",
        "budgetE3": "0", "budgetAdditional": "25", "expenditureToDate": "700",
        "nonContactHoursPerWeek": 4.5, "senPolicyDate": "2025-01-01",
        "provisionReviewDate": "2025-01-01", "senInformationReportPublishedOn": "2025-01-01",
        "challenges": "Fuzz challenges", "ongoingConcerns": "Fuzz concerns",
        "trainingUndertaken": "Fuzz training"
    })
}

/// Ids the world build created.
struct World {
    appt_update: String,
    appt_end: String,
    person: String,
    prior_person: String,
    record_person: String,
    qual: String,
    evidence_person: String,
    cluster_senco: String,
    cluster_update: String,
    cluster_update_senco: String,
    cluster_review: String,
    meeting_update: String,
    meeting_for_action: String,
    action_update: String,
    webhook: String,
}

static FRESH: AtomicU32 = AtomicU32::new(0);

fn fresh_trn() -> String {
    format!("{}", 8_100_000 + FRESH.fetch_add(1, Ordering::Relaxed))
}

const APPOINT: &str =
    "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id person { id } } }";

async fn appoint(s: &TestServer, urn: i32) -> (String, String) {
    let trn = fresh_trn();
    let d = s
        .ok(
            &admin(),
            APPOINT,
            json!({ "i": { "schoolUrn": urn, "startedOn": "2024-09-02",
                           "person": { "trn": trn, "fullName": format!("Fuzz {trn}"),
                                       "hasQts": true, "inductionStatus": "COMPLETED" } } }),
        )
        .await;
    (
        d["appointSenco"]["id"].as_str().unwrap().to_owned(),
        d["appointSenco"]["person"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

async fn build_world(s: &TestServer) -> World {
    let a = admin();
    for code in WORLD_LAS {
        s.ok(
            &a,
            "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code } }",
            json!({ "i": { "code": code, "name": format!("LA {code}") } }),
        )
        .await;
    }
    s.ok(
        &a,
        "mutation($i: TrustInput!) { upsertTrust(input: $i) { uid } }",
        json!({ "i": { "uid": WORLD_TRUST, "name": "World Trust" } }),
    )
    .await;
    for urn in 300_001..=300_023 {
        s.ok(
            &a,
            "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
            json!({ "i": { "urn": urn, "name": format!("Fuzz School {urn}"), "laCode": 202,
                           "phase": "PRIMARY", "kind": "MAINSTREAM", "isAcademy": false,
                           "numberOnRoll": 150 } }),
        )
        .await;
    }
    let (appt_update, _) = appoint(s, S_UPDATE_APPT).await;
    let (appt_end, _) = appoint(s, S_END_APPT).await;
    let (_, person) = appoint(s, S_PERSON).await;
    let (_, prior_person) = appoint(s, S_PRIOR).await;
    let (_, record_person) = appoint(s, S_RECORD_QUAL).await;
    let (_, qual_person) = appoint(s, S_UPDATE_QUAL).await;
    let (_, evidence_person) = appoint(s, S_EVIDENCE).await;
    let qual = s
        .ok(
            &a,
            "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { id } }",
            json!({ "i": { "personId": qual_person, "kind": "NPQ_SENCO",
                           "provider": "Fuzz Provider",
                           "startedOn": "2024-10-01", "completedOn": "2025-07-01" } }),
        )
        .await["recordQualification"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, cluster_senco) = appoint(s, S_CREATE_CLUSTER[0]).await;
    let (_, cluster_update_senco) = appoint(s, S_UPDATE_CLUSTER[0]).await;
    let (_, review_senco) = appoint(s, S_REVIEW[0]).await;
    let mut clusters = Vec::new();
    for (members, senco) in [
        (S_UPDATE_CLUSTER, &cluster_update_senco),
        (S_REVIEW, &review_senco),
    ] {
        let d = s
            .ok(
                &a,
                "mutation($i: CreateClusterInput!) { createCluster(input: $i) { id } }",
                json!({ "i": { "name": "Fuzz Cluster", "sencoPersonId": senco,
                               "memberUrns": members, "startedOn": "2024-09-02",
                               "lastReviewedOn": "2025-06-01" } }),
            )
            .await;
        clusters.push(d["createCluster"]["id"].as_str().unwrap().to_owned());
    }
    let record =
        "mutation($i: RecordGovernorMeetingInput!) { recordGovernorMeeting(input: $i) { id } }";
    let mut meetings = Vec::new();
    for urn in [S_UPDATE_MEETING, S_ACTION, S_UPDATE_ACTION] {
        let d = s
            .ok(&governor(urn), record, json!({ "i": meeting_base(urn) }))
            .await;
        meetings.push(
            d["recordGovernorMeeting"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut action = action_base();
    action["schoolUrn"] = json!(S_UPDATE_ACTION);
    action["meetingId"] = json!(meetings[2]);
    let action_update = s
        .ok(
            &governor(S_UPDATE_ACTION),
            "mutation($i: AddGovernanceActionInput!) { addGovernanceAction(input: $i) { id } }",
            json!({ "i": action }),
        )
        .await["addGovernanceAction"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for urn in S_REPORTS.into_iter().chain([S_SIGN_OFF]) {
        let mut first_report = report_base(urn);
        first_report["expectedVersion"] = Value::Null;
        s.ok(
            &token("fuzz-school", &format!("school:{urn}:write")),
            "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
            json!({ "i": first_report }),
        )
        .await;
    }
    let d = s
        .ok(
            &admin(),
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
            json!({ "i": { "url": "http://127.0.0.1:9/fuzz", "types": ["CLUSTER_REVIEW_DUE"] } }),
        )
        .await;
    let webhook = d["createWebhook"]["webhook"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    World {
        appt_update,
        appt_end,
        person,
        prior_person,
        record_person,
        qual,
        evidence_person,
        cluster_senco,
        cluster_update: clusters[0].clone(),
        cluster_update_senco,
        cluster_review: clusters[1].clone(),
        meeting_update: meetings[0].clone(),
        meeting_for_action: meetings[1].clone(),
        action_update,
        webhook,
    }
}

/// The `sub` of the token the `createWebhook` stream registers webhooks with.
const HOOK_WRITER: &str = "fuzz-hooks";

/// The fuzz server lets webhooks point at this machine, where every fuzzed URL points.
const FUZZ_ENV: &[(&str, &str)] = &[("SENCO_WEBHOOK_ALLOW_PRIVATE", "true")];

/// Mutations whose one argument is an id, not an input object: malformed and unknown ids
/// for them are tried by `tests/events.rs` and the scope matrix.
const ID_ONLY: [&str; 2] = ["deleteWebhook", "redeliverWebhookEvent"];

/// The mutations fuzzed here: those of the schema with an input object.
fn fuzzed_mutations() -> BTreeSet<String> {
    schema_mutations()
        .into_iter()
        .filter(|m| !ID_ONLY.contains(&m.as_str()))
        .collect()
}

fn date(min: (Bound, bool), max: (Bound, bool)) -> Kind {
    Kind::Date { min, max }
}

const EPOCH: Bound = Bound::Fixed("1970-01-01");
const APPT_START: Bound = Bound::Fixed("2024-09-02");

fn streams(w: &World) -> Vec<Stream> {
    use Null::*;
    let admin = admin();
    let mut v = Vec::new();
    let text = |max| Kind::Text { max, trims: true };
    let report_text = Kind::Text {
        max: 10_000,
        trims: false,
    };
    let appt_sel = "id startedOn endedOn isHeadteacher worksAsTeacherAtSchool \
        onSeniorLeadershipTeam nonContactHoursPerWeek classTeachingFraction \
        person { trn fullName email hasQts inductionStatus }";

    v.push(Stream {
        mutation: "appointSenco",
        query: format!(
            "mutation($i: AppointSencoInput!) {{ appointSenco(input: $i) {{ {appt_sel} }} }}"
        ),
        token: admin.clone(),
        base: json!({ "schoolUrn": S_APPOINT, "startedOn": "2024-09-02",
                      "person": { "trn": "0000000", "fullName": "Fuzz Appointee",
                                  "email": "fuzz@school.example", "hasQts": true,
                                  "inductionStatus": "COMPLETED" },
                      "isHeadteacher": false, "worksAsTeacherAtSchool": true,
                      "onSeniorLeadershipTeam": false, "nonContactHoursPerWeek": 4.5,
                      "classTeachingFraction": 0.1 }),
        fields: vec![
            Field::new("schoolUrn", Kind::Urn, Invalid),
            Field::new("person", Kind::Object, Invalid),
            // A TRN already recorded links that person, whose appointment here overlaps.
            Field::new("person.trn", Kind::Trn, Clears)
                .out("/person/trn")
                .alt("input.startedOn"),
            Field::new("person.fullName", Kind::Name, Invalid).out("/person/fullName"),
            Field::new("person.email", Kind::Email, Clears).out("/person/email"),
            Field::new("person.hasQts", Kind::Bool, Invalid).out("/person/hasQts"),
            Field::new("person.inductionStatus", Kind::Enum(INDUCTION), Invalid)
                .out("/person/inductionStatus"),
            Field::new(
                "startedOn",
                date((EPOCH, false), (Bound::Today(366), false)),
                Invalid,
            )
            .out("/startedOn"),
            Field::new("isHeadteacher", Kind::Bool, Default)
                .out("/isHeadteacher")
                .default(json!(false)),
            Field::new("worksAsTeacherAtSchool", Kind::Bool, Default)
                .out("/worksAsTeacherAtSchool")
                .default(json!(true)),
            Field::new("onSeniorLeadershipTeam", Kind::Bool, Default)
                .out("/onSeniorLeadershipTeam")
                .default(json!(false)),
            Field::new(
                "nonContactHoursPerWeek",
                Kind::Float {
                    min: 0.0,
                    max: 60.0,
                },
                Clears,
            )
            .out("/nonContactHoursPerWeek"),
            Field::new(
                "classTeachingFraction",
                Kind::Float { min: 0.0, max: 1.0 },
                Clears,
            )
            .out("/classTeachingFraction"),
        ],
        snap: Snap::Schools(vec![S_APPOINT]),
        refresh: Refresh::FreshTrn,
        seed: 0x5eed_0001,
    });

    v.push(Stream {
        mutation: "updateSencoAppointment",
        query: format!(
            "mutation($i: UpdateSencoAppointmentInput!) {{ updateSencoAppointment(input: $i) \
             {{ {appt_sel} }} }}"
        ),
        token: admin.clone(),
        base: json!({ "appointmentId": w.appt_update, "startedOn": "2024-09-02",
                      "nonContactHoursPerWeek": 5.0, "classTeachingFraction": 0.2 }),
        fields: vec![
            Field::new("appointmentId", Kind::Id(w.appt_update.clone()), Invalid),
            Field::new(
                "startedOn",
                date((EPOCH, false), (Bound::Today(366), false)),
                Unchanged,
            )
            .out("/startedOn"),
            Field::new("isHeadteacher", Kind::Bool, Unchanged).out("/isHeadteacher"),
            Field::new("worksAsTeacherAtSchool", Kind::Bool, Unchanged)
                .out("/worksAsTeacherAtSchool"),
            Field::new("onSeniorLeadershipTeam", Kind::Bool, Unchanged)
                .out("/onSeniorLeadershipTeam"),
            Field::new(
                "nonContactHoursPerWeek",
                Kind::Float {
                    min: 0.0,
                    max: 60.0,
                },
                Clears,
            )
            .out("/nonContactHoursPerWeek"),
            Field::new(
                "classTeachingFraction",
                Kind::Float { min: 0.0, max: 1.0 },
                Clears,
            )
            .out("/classTeachingFraction"),
        ],
        snap: Snap::Schools(vec![S_UPDATE_APPT]),
        refresh: Refresh::None,
        seed: 0x5eed_0002,
    });

    v.push(Stream {
        mutation: "endSencoAppointment",
        query: format!(
            "mutation($i: EndSencoAppointmentInput!) {{ endSencoAppointment(input: $i) \
             {{ {appt_sel} }} }}"
        ),
        token: admin.clone(),
        base: json!({ "appointmentId": w.appt_end, "endedOn": "2025-08-31" }),
        fields: vec![
            // The world's first appointment is ended by the first accepted case; its other
            // spellings then name an ended appointment.
            Field::new("appointmentId", Kind::Id(w.appt_end.clone()), Invalid).code("CONFLICT"),
            Field::new(
                "endedOn",
                date((APPT_START, true), (Bound::Today(366), false)),
                Invalid,
            )
            .out("/endedOn"),
        ],
        snap: Snap::Schools(vec![S_END_APPT]),
        refresh: Refresh::OpenAppointment,
        seed: 0x5eed_0003,
    });

    v.push(Stream {
        mutation: "updatePerson",
        query: "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id trn fullName \
                email hasQts inductionStatus } }"
            .into(),
        token: admin.clone(),
        base: json!({ "personId": w.person, "fullName": "Fuzz Person" }),
        fields: vec![
            Field::new("personId", Kind::Id(w.person.clone()), Invalid),
            Field::new("trn", Kind::Trn, Clears)
                .out("/trn")
                .code("CONFLICT"),
            Field::new("fullName", Kind::Name, Unchanged).out("/fullName"),
            Field::new("email", Kind::Email, Clears).out("/email"),
            Field::new("hasQts", Kind::Bool, Unchanged).out("/hasQts"),
            Field::new("inductionStatus", Kind::Enum(INDUCTION), Unchanged).out("/inductionStatus"),
        ],
        snap: Snap::Schools(vec![S_PERSON]),
        refresh: Refresh::None,
        seed: 0x5eed_0004,
    });

    v.push(Stream {
        mutation: "addPriorSencoService",
        query: "mutation($i: AddPriorSencoServiceInput!) { addPriorSencoService(input: $i) { \
                id priorService { startedOn endedOn description } } }"
            .into(),
        token: admin.clone(),
        base: json!({ "personId": w.prior_person, "startedOn": "2015-09-01",
                      "endedOn": "2016-07-31", "description": "Fuzz service" }),
        fields: vec![
            Field::new("personId", Kind::Id(w.prior_person.clone()), Invalid),
            Field::new(
                "startedOn",
                date((EPOCH, false), (Bound::Fixed("2016-07-31"), true)),
                Invalid,
            )
            .out("/priorService/*/startedOn")
            .alt("input.endedOn"),
            Field::new(
                "endedOn",
                date((Bound::Fixed("2015-09-01"), true), (Bound::Today(0), true)),
                Invalid,
            )
            .out("/priorService/*/endedOn"),
            Field::new("description", text(1000), Clears).out("/priorService/*/description"),
        ],
        snap: Snap::Schools(vec![S_PRIOR]),
        refresh: Refresh::None,
        seed: 0x5eed_0005,
    });

    let qual_sel = "id kind provider startedOn completedOn expectedCompletionOn";
    v.push(Stream {
        mutation: "recordQualification",
        query: format!(
            "mutation($i: RecordQualificationInput!) {{ recordQualification(input: $i) \
             {{ {qual_sel} }} }}"
        ),
        token: admin.clone(),
        base: json!({ "personId": w.record_person, "kind": "NPQ_SENCO", "provider": "Fuzz Provider",
                      "startedOn": "2024-10-01", "completedOn": "2025-07-01" }),
        fields: vec![
            Field::new("personId", Kind::Id(w.record_person.clone()), Invalid),
            Field::new("kind", Kind::Enum(QUAL_KINDS), Invalid).out("/kind"),
            Field::new("provider", text(200), Clears).out("/provider"),
            Field::new(
                "startedOn",
                date((EPOCH, false), (Bound::Fixed("2025-07-01"), true)),
                Invalid,
            )
            .out("/startedOn")
            .alt("input.completedOn"),
            Field::new(
                "completedOn",
                date((Bound::Fixed("2024-10-01"), true), (Bound::Today(0), true)),
                Clears,
            )
            .out("/completedOn"),
            Field::new(
                "expectedCompletionOn",
                date(
                    (Bound::Fixed("2024-10-01"), true),
                    (Bound::Today(3650), true),
                ),
                Clears,
            )
            .out("/expectedCompletionOn"),
        ],
        snap: Snap::Schools(vec![S_RECORD_QUAL]),
        refresh: Refresh::None,
        seed: 0x5eed_0006,
    });

    v.push(Stream {
        mutation: "updateQualification",
        query: format!(
            "mutation($i: UpdateQualificationInput!) {{ updateQualification(input: $i) \
             {{ {qual_sel} }} }}"
        ),
        token: admin.clone(),
        base: json!({ "qualificationId": w.qual, "kind": "NPQ_SENCO", "provider": "Fuzz Provider",
                      "startedOn": "2024-10-01", "completedOn": "2025-07-01" }),
        fields: vec![
            Field::new("qualificationId", Kind::Id(w.qual.clone()), Invalid),
            // A NASENCO may not keep an expected date after August 2027.
            Field::new("kind", Kind::Enum(QUAL_KINDS), Unchanged)
                .out("/kind")
                .alt("input.expectedCompletionOn"),
            Field::new("provider", text(200), Clears).out("/provider"),
            Field::new(
                "startedOn",
                date((EPOCH, false), (Bound::Fixed("2025-07-01"), true)),
                Unchanged,
            )
            .out("/startedOn")
            .alt("input.completedOn")
            .alt("input.expectedCompletionOn"),
            Field::new(
                "completedOn",
                date((Bound::Fixed("2024-10-01"), true), (Bound::Today(0), true)),
                Clears,
            )
            .out("/completedOn"),
            Field::new(
                "expectedCompletionOn",
                date(
                    (Bound::Fixed("2024-10-01"), true),
                    (Bound::Today(3650), true),
                ),
                Clears,
            )
            .out("/expectedCompletionOn"),
        ],
        snap: Snap::Schools(vec![S_UPDATE_QUAL]),
        refresh: Refresh::None,
        seed: 0x5eed_0007,
    });

    v.push(Stream {
        mutation: "recordEvidenceCheck",
        query: "mutation($i: RecordEvidenceCheckInput!) { recordEvidenceCheck(input: $i) \
                { id checkedOn source confirms note } }"
            .into(),
        token: admin.clone(),
        base: json!({ "personId": w.evidence_person, "checkedOn": "2025-09-01", "source": "OTHER",
                      "confirms": ["QTS"], "note": "Fuzz note" }),
        fields: vec![
            Field::new("personId", Kind::Id(w.evidence_person.clone()), Invalid),
            Field::new(
                "checkedOn",
                date((EPOCH, true), (Bound::Today(0), true)),
                Invalid,
            )
            .out("/checkedOn"),
            Field::new("source", Kind::Enum(EVIDENCE_SOURCES), Invalid).out("/source"),
            Field::new("note", text(1000), Clears).out("/note"),
        ],
        snap: Snap::Schools(vec![S_EVIDENCE]),
        refresh: Refresh::None,
        seed: 0x5eed_0017,
    });

    v.push(Stream {
        mutation: "upsertNpqCohort",
        query: "mutation($i: NpqCohortInput!) { upsertNpqCohort(input: $i) \
                { startsOn registrationClosesOn expectedOutcomeMonths expectedOutcomeOn } }"
            .into(),
        token: admin.clone(),
        base: json!({ "startsOn": "2031-11-01", "registrationClosesOn": "2030-01-01",
                      "expectedOutcomeMonths": 22 }),
        fields: vec![
            Field::new(
                "startsOn",
                date(
                    (Bound::Fixed("2030-01-01"), true),
                    (Bound::Fixed("2032-01-01"), true),
                ),
                Invalid,
            )
            .out("/startsOn")
            .alt("input.registrationClosesOn"),
            Field::new(
                "registrationClosesOn",
                date(
                    (Bound::Fixed("2029-11-01"), true),
                    (Bound::Fixed("2031-11-01"), true),
                ),
                Invalid,
            )
            .out("/registrationClosesOn"),
            Field::new(
                "expectedOutcomeMonths",
                Kind::Int { min: 1, max: 60 },
                Invalid,
            )
            .out("/expectedOutcomeMonths"),
        ],
        snap: Snap::Calendar,
        refresh: Refresh::None,
        seed: 0x5eed_0018,
    });

    let money = |p: &str| Field::new(p, Kind::Money, Invalid);
    let count = |p: &str, min: i64, max: i64| Field::new(p, Kind::Int { min, max }, Invalid);
    let report_date = |p: &str| {
        Field::new(
            p,
            date((Bound::Fixed("1990-01-01"), false), (Bound::Today(0), true)),
            Clears,
        )
    };
    let mut report_fields = vec![
        Field::new("schoolUrn", Kind::Urn, Invalid),
        Field::new(
            "academicYear",
            Kind::Int {
                min: 2009,
                max: i64::from(today().year() + 1),
            },
            Invalid,
        )
        .code("CONFLICT"),
        Field::new("term", Kind::Enum(TERMS), Invalid).code("CONFLICT"),
        Field::new("expectedVersion", Kind::Version, Invalid),
        Field::new("idempotencyKey", Kind::Key, Clears).code("CONFLICT"),
        count("numberOnRoll", 20, i64::from(i32::MAX))
            .out("/numberOnRoll")
            .alt("input.pupilsWithSend"),
        count("pupilsWithSend", 15, 200).out("/pupilsWithSend"),
        count("senSupport", 0, 17)
            .out("/senSupport")
            .alt("input.pupilsWithSend"),
        count("ehcp", 0, 8).out("/ehcp").alt("input.pupilsWithSend"),
        count("ehcpApplicationsInProcess", 0, i64::from(i32::MAX))
            .out("/ehcpApplicationsInProcess"),
        money("budgetE1").out("/budgetE1"),
        money("budgetE2").out("/budgetE2"),
        money("budgetE3").out("/budgetE3"),
        money("budgetAdditional").out("/budgetAdditional"),
        money("expenditureToDate").out("/expenditureToDate"),
        Field::new(
            "nonContactHoursPerWeek",
            Kind::Float {
                min: 0.0,
                max: 60.0,
            },
            Invalid,
        )
        .out("/nonContactHoursPerWeek"),
        report_date("senPolicyDate").out("/senPolicyDate"),
        report_date("provisionReviewDate").out("/provisionReviewDate"),
        report_date("senInformationReportPublishedOn").out("/senInformationReportPublishedOn"),
    ];
    for t in ["challenges", "ongoingConcerns", "trainingUndertaken"] {
        let out: &'static str = Box::leak(format!("/{t}").into_boxed_str());
        report_fields.push(Field::new(t, report_text.clone(), Clears).out(out));
    }
    // Identity and counts; money and hours; dates and free text.
    let groups: [&[&str]; 3] = [
        &[
            "schoolUrn",
            "academicYear",
            "term",
            "expectedVersion",
            "idempotencyKey",
            "numberOnRoll",
            "pupilsWithSend",
            "senSupport",
            "ehcp",
            "ehcpApplicationsInProcess",
        ],
        &[
            "budgetE1",
            "budgetE2",
            "budgetE3",
            "budgetAdditional",
            "expenditureToDate",
            "nonContactHoursPerWeek",
        ],
        &[
            "senPolicyDate",
            "provisionReviewDate",
            "senInformationReportPublishedOn",
            "challenges",
            "ongoingConcerns",
            "trainingUndertaken",
        ],
    ];
    for (n, (urn, group)) in S_REPORTS.iter().zip(groups).enumerate() {
        v.push(Stream {
            mutation: "submitTermlyReport",
            query: "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { \
                    version academicYear term numberOnRoll pupilsWithSend senSupport ehcp \
                    ehcpApplicationsInProcess budgetE1 budgetE2 budgetE3 budgetAdditional \
                    expenditureToDate nonContactHoursPerWeek senPolicyDate provisionReviewDate \
                    senInformationReportPublishedOn challenges ongoingConcerns \
                    trainingUndertaken } }"
                .into(),
            token: token("fuzz-school", &format!("school:{urn}:write")),
            base: report_base(*urn),
            fields: report_fields
                .iter()
                .filter(|f| group.contains(&f.path[0]))
                .cloned()
                .collect(),
            snap: Snap::Schools(vec![*urn]),
            refresh: Refresh::Version,
            seed: 0x5eed_0080 + n as u64,
        });
    }

    let cluster_sel = "id name startedOn lastReviewedOn reviewIntervalMonths endedOn \
        members { urn } senco { id }";
    v.push(Stream {
        mutation: "createCluster",
        query: format!(
            "mutation($i: CreateClusterInput!) {{ createCluster(input: $i) {{ {cluster_sel} }} }}"
        ),
        token: admin.clone(),
        base: json!({ "name": "Fuzz New Cluster", "sencoPersonId": w.cluster_senco,
                      "memberUrns": S_CREATE_CLUSTER, "startedOn": "2024-09-02",
                      "lastReviewedOn": "2025-06-01", "reviewIntervalMonths": 12 }),
        fields: vec![
            Field::new("name", Kind::Name, Invalid).out("/name"),
            Field::new("sencoPersonId", Kind::Id(w.cluster_senco.clone()), Invalid),
            Field::new("memberUrns", Kind::Urns(S_CREATE_CLUSTER.to_vec()), Invalid),
            Field::new(
                "startedOn",
                date((EPOCH, false), (Bound::Fixed("2025-06-01"), true)),
                Invalid,
            )
            .out("/startedOn")
            .alt("input.lastReviewedOn"),
            // "When it was last reviewed": a review cannot have happened in the future
            // (recordClusterReview refuses one).
            Field::new(
                "lastReviewedOn",
                date((APPT_START, true), (Bound::Today(0), true)),
                Clears,
            )
            .out("/lastReviewedOn"),
            Field::new(
                "reviewIntervalMonths",
                Kind::Int { min: 1, max: 60 },
                Default,
            )
            .out("/reviewIntervalMonths")
            .default(json!(12)),
        ],
        snap: Snap::Schools(S_CREATE_CLUSTER.to_vec()),
        refresh: Refresh::None,
        seed: 0x5eed_0009,
    });

    v.push(Stream {
        mutation: "updateCluster",
        query: format!(
            "mutation($i: UpdateClusterInput!) {{ updateCluster(input: $i) {{ {cluster_sel} }} }}"
        ),
        token: admin.clone(),
        base: json!({ "clusterId": w.cluster_update, "name": "Fuzz Cluster",
                      "sencoPersonId": w.cluster_update_senco, "startedOn": "2024-09-02",
                      "lastReviewedOn": "2025-06-01", "reviewIntervalMonths": 12 }),
        fields: vec![
            Field::new("clusterId", Kind::Id(w.cluster_update.clone()), Invalid),
            Field::new("name", Kind::Name, Unchanged).out("/name"),
            Field::new(
                "sencoPersonId",
                Kind::Id(w.cluster_update_senco.clone()),
                Unchanged,
            ),
            Field::new(
                "memberUrns",
                Kind::Urns(S_UPDATE_CLUSTER.to_vec()),
                Unchanged,
            ),
            Field::new(
                "startedOn",
                date((EPOCH, false), (Bound::Fixed("2025-06-01"), true)),
                Unchanged,
            )
            .out("/startedOn")
            .alt("input.lastReviewedOn")
            .alt("input.endedOn"),
            Field::new(
                "lastReviewedOn",
                date((APPT_START, true), (Bound::Today(0), true)),
                Clears,
            )
            .out("/lastReviewedOn"),
            Field::new(
                "reviewIntervalMonths",
                Kind::Int { min: 1, max: 60 },
                Unchanged,
            )
            .out("/reviewIntervalMonths"),
            Field::new(
                "endedOn",
                date((APPT_START, true), (Bound::Today(366), false)),
                Clears,
            )
            .out("/endedOn"),
        ],
        snap: Snap::Schools(S_UPDATE_CLUSTER.to_vec()),
        refresh: Refresh::None,
        seed: 0x5eed_000a,
    });

    v.push(Stream {
        mutation: "recordClusterReview",
        query: format!(
            "mutation($i: RecordClusterReviewInput!) {{ recordClusterReview(input: $i) \
             {{ {cluster_sel} }} }}"
        ),
        token: admin.clone(),
        base: json!({ "clusterId": w.cluster_review, "reviewedOn": "2025-06-01" }),
        fields: vec![
            Field::new("clusterId", Kind::Id(w.cluster_review.clone()), Invalid),
            Field::new(
                "reviewedOn",
                date((APPT_START, true), (Bound::Today(0), true)),
                Invalid,
            ),
        ],
        snap: Snap::Schools(S_REVIEW.to_vec()),
        refresh: Refresh::None,
        seed: 0x5eed_000b,
    });

    governance_streams(w, &mut v);

    v.push(Stream {
        mutation: "upsertLocalAuthority",
        query:
            "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code name } }"
                .into(),
        token: admin.clone(),
        base: json!({ "code": FUZZ_LA, "name": "Fuzzshire" }),
        fields: vec![
            Field::new("code", Kind::Int { min: 100, max: 999 }, Invalid).out("/code"),
            Field::new("name", Kind::Name, Invalid).out("/name"),
        ],
        snap: Snap::Las,
        refresh: Refresh::None,
        seed: 0x5eed_000c,
    });

    v.push(Stream {
        mutation: "upsertTrust",
        query: "mutation($i: TrustInput!) { upsertTrust(input: $i) { uid name } }".into(),
        token: admin.clone(),
        base: json!({ "uid": FUZZ_TRUST, "name": "Fuzz Trust" }),
        fields: vec![
            Field::new(
                "uid",
                Kind::Int {
                    min: 1,
                    max: i64::from(i32::MAX),
                },
                Invalid,
            )
            .out("/uid"),
            Field::new("name", Kind::Name, Invalid).out("/name"),
        ],
        snap: Snap::Trusts,
        refresh: Refresh::None,
        seed: 0x5eed_000d,
    });

    v.push(Stream {
        mutation: "upsertSchool",
        query: "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn name \
                localAuthority { code } trust { uid } phase kind isAcademy numberOnRoll \
                predecessorUrn closedOn } }"
            .into(),
        token: admin.clone(),
        base: json!({ "urn": S_UPSERT, "name": format!("Fuzz School {S_UPSERT}"), "laCode": 202,
                      "trustUid": null, "phase": "PRIMARY", "kind": "MAINSTREAM",
                      "isAcademy": false, "numberOnRoll": 150, "predecessorUrn": null,
                      "closedOn": null }),
        fields: vec![
            Field::new(
                "urn",
                Kind::Int {
                    min: 100_000,
                    max: 999_999,
                },
                Invalid,
            )
            .out("/urn"),
            Field::new("name", Kind::Name, Invalid).out("/name"),
            Field::new(
                "laCode",
                Kind::Existing {
                    min: 100,
                    max: 999,
                    known: &[202, 203, 301],
                },
                Invalid,
            )
            .out("/localAuthority/code"),
            Field::new(
                "trustUid",
                Kind::Existing {
                    min: 1,
                    max: i64::from(i32::MAX),
                    known: &[2044, 3001],
                },
                Clears,
            )
            .out("/trust/uid"),
            Field::new("phase", Kind::Enum(PHASES), Invalid).out("/phase"),
            Field::new("kind", Kind::Enum(SCHOOL_KINDS), Invalid).out("/kind"),
            Field::new("isAcademy", Kind::Bool, Invalid).out("/isAcademy"),
            Field::new(
                "numberOnRoll",
                Kind::Int {
                    min: 0,
                    max: 10_000,
                },
                Clears,
            )
            .out("/numberOnRoll"),
            Field::new(
                "predecessorUrn",
                Kind::Int {
                    min: 100_000,
                    max: 999_999,
                },
                Clears,
            )
            .out("/predecessorUrn"),
            Field::new(
                "closedOn",
                date((EPOCH, false), (Bound::Today(0), true)),
                Clears,
            )
            .out("/closedOn"),
        ],
        snap: Snap::Schools(vec![S_UPSERT]),
        refresh: Refresh::None,
        seed: 0x5eed_000e,
    });

    v.push(Stream {
        mutation: "createWebhook",
        query: "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) \
                { webhook { id url types description } } }"
            .into(),
        token: token(HOOK_WRITER, "la:202:write"),
        base: json!({ "url": "http://127.0.0.1:9/fuzz", "types": ["CLUSTER_REVIEW_DUE"],
                      "description": "Fuzz receiver" }),
        fields: vec![
            Field::new("url", Kind::Url, Invalid).out("/webhook/url"),
            Field::new(
                "description",
                Kind::Text {
                    max: 1000,
                    trims: true,
                },
                Clears,
            )
            .out("/webhook/description"),
        ],
        snap: Snap::Webhooks {
            token: token(HOOK_WRITER, "la:202:write"),
            actor: HOOK_WRITER,
            id: None,
        },
        refresh: Refresh::None,
        seed: 0x5eed_0010,
    });

    v.push(Stream {
        mutation: "updateWebhook",
        query: "mutation($i: UpdateWebhookInput!) { updateWebhook(input: $i) \
                { id url description } }"
            .into(),
        token: admin.clone(),
        base: json!({ "id": w.webhook, "description": "Fuzz receiver" }),
        fields: vec![
            Field::new("id", Kind::Id(w.webhook.clone()), Invalid),
            Field::new("url", Kind::Url, Unchanged).out("/url"),
            Field::new(
                "description",
                Kind::Text {
                    max: 1000,
                    trims: true,
                },
                Clears,
            )
            .out("/description"),
        ],
        snap: Snap::Webhooks {
            token: admin,
            actor: "admin-user",
            id: Some(w.webhook.clone()),
        },
        refresh: Refresh::None,
        seed: 0x5eed_0011,
    });

    v
}

/// The governing body's mutations (SPEC 4.10), each by the school's own governor.
fn governance_streams(w: &World, v: &mut Vec<Stream>) {
    use Null::*;
    let text = |max| Kind::Text { max, trims: true };
    let past = || date((EPOCH, true), (Bound::Today(0), true));
    let closed_today = json!(date_str(today()));
    let meeting_sel = "id heldOn nextMeetingOn attendees { name role } items { title keyPoints }";
    // Two years after the base heldOn (2025-10-01) is as late as the next meeting may be.
    let next = || {
        date(
            (Bound::Fixed("2025-10-02"), true),
            (Bound::Fixed("2027-10-03"), true),
        )
    };
    let list_fields = |null: Null| {
        vec![
            Field::new("attendees", Kind::Object, null),
            Field::new("attendees.0.name", Kind::Name, Invalid).out("/attendees/0/name"),
            Field::new("attendees.0.role", Kind::Name, Invalid).out("/attendees/0/role"),
            Field::new("items.0.title", Kind::Name, Invalid).out("/items/0/title"),
            Field::new("items.0.keyPoints", text(10_000), Clears).out("/items/0/keyPoints"),
        ]
    };
    let mut fields = vec![
        Field::new("schoolUrn", Kind::Urn, Invalid),
        Field::new("heldOn", past(), Invalid)
            .out("/heldOn")
            .alt("input.nextMeetingOn"),
        Field::new("nextMeetingOn", next(), Clears).out("/nextMeetingOn"),
    ];
    fields.extend(list_fields(Invalid));
    v.push(Stream {
        mutation: "recordGovernorMeeting",
        query: format!(
            "mutation($i: RecordGovernorMeetingInput!) {{ recordGovernorMeeting(input: $i) \
             {{ {meeting_sel} }} }}"
        ),
        token: governor(S_MEETING),
        base: meeting_base(S_MEETING),
        fields,
        snap: Snap::Schools(vec![S_MEETING]),
        refresh: Refresh::None,
        seed: 0x5eed_0101,
    });

    let mut base = meeting_base(S_UPDATE_MEETING);
    base.as_object_mut().unwrap().remove("schoolUrn");
    base["meetingId"] = json!(w.meeting_update);
    let mut fields = vec![
        Field::new("meetingId", Kind::Id(w.meeting_update.clone()), Invalid),
        Field::new("heldOn", past(), Unchanged)
            .out("/heldOn")
            .alt("input.nextMeetingOn"),
        Field::new("nextMeetingOn", next(), Clears)
            .out("/nextMeetingOn")
            .alt("input.heldOn"),
    ];
    fields.extend(list_fields(Unchanged));
    v.push(Stream {
        mutation: "updateGovernorMeeting",
        query: format!(
            "mutation($i: UpdateGovernorMeetingInput!) {{ updateGovernorMeeting(input: $i) \
             {{ {meeting_sel} }} }}"
        ),
        token: governor(S_UPDATE_MEETING),
        base,
        fields,
        snap: Snap::Schools(vec![S_UPDATE_MEETING]),
        refresh: Refresh::None,
        seed: 0x5eed_0102,
    });

    let action_sel = "id area description owner dueOn status completedOn cost timeHours \
        successCriteria monitoring evaluation meeting { id }";
    let terms = |null_text: Null, unchanged: bool| {
        let keep = |n: Null| if unchanged { Unchanged } else { n };
        vec![
            Field::new("area", text(200), Clears).out("/area"),
            Field::new("description", Kind::Name, keep(Invalid)).out("/description"),
            Field::new("owner", Kind::Name, keep(Invalid)).out("/owner"),
            Field::new(
                "dueOn",
                date((EPOCH, true), (Bound::Today(1830), true)),
                keep(Invalid),
            )
            .out("/dueOn"),
            // Reopening with a completion date still given is refused for that date.
            Field::new("status", Kind::Enum(STATUSES), keep(Default))
                .out("/status")
                .default(json!("OPEN"))
                .alt("input.completedOn"),
            // A closed action without a date is closed today.
            Field::new("completedOn", past(), Default)
                .out("/completedOn")
                .default(closed_today.clone()),
            Field::new("cost", Kind::Money, keep(Default))
                .out("/cost")
                .default(json!("0.00")),
            Field::new(
                "timeHours",
                Kind::Float {
                    min: 0.0,
                    max: 10_000.0,
                },
                keep(Default),
            )
            .out("/timeHours")
            .default(json!(0.0)),
            Field::new("successCriteria", text(10_000), null_text).out("/successCriteria"),
            Field::new("monitoring", text(10_000), null_text).out("/monitoring"),
            Field::new("evaluation", text(10_000), null_text).out("/evaluation"),
        ]
    };
    let mut base = action_base();
    base["schoolUrn"] = json!(S_ACTION);
    base["meetingId"] = json!(w.meeting_for_action);
    let mut fields = vec![
        Field::new("schoolUrn", Kind::Urn, Invalid).alt("input.meetingId"),
        // No meeting: an action of the SEN action plan.
        Field::new("meetingId", Kind::Id(w.meeting_for_action.clone()), Clears),
    ];
    fields.extend(terms(Clears, false));
    v.push(Stream {
        mutation: "addGovernanceAction",
        query: format!(
            "mutation($i: AddGovernanceActionInput!) {{ addGovernanceAction(input: $i) \
             {{ {action_sel} }} }}"
        ),
        token: governor(S_ACTION),
        base,
        fields,
        snap: Snap::Schools(vec![S_ACTION]),
        refresh: Refresh::None,
        seed: 0x5eed_0103,
    });

    let mut base = action_base();
    base["actionId"] = json!(w.action_update);
    let mut fields = vec![Field::new(
        "actionId",
        Kind::Id(w.action_update.clone()),
        Invalid,
    )];
    fields.extend(terms(Clears, true));
    v.push(Stream {
        mutation: "updateGovernanceAction",
        query: format!(
            "mutation($i: UpdateGovernanceActionInput!) {{ updateGovernanceAction(input: $i) \
             {{ {action_sel} }} }}"
        ),
        token: governor(S_UPDATE_ACTION),
        base,
        fields,
        snap: Snap::Schools(vec![S_UPDATE_ACTION]),
        refresh: Refresh::None,
        seed: 0x5eed_0104,
    });

    let next_year = i64::from(today().year() + 1);
    v.push(Stream {
        mutation: "signOffDocument",
        query: "mutation($i: SignOffDocumentInput!) { signOffDocument(input: $i) { document \
                academicYear term reportVersion documentDate signedOn signedBy role statement \
                current } }"
            .into(),
        token: governor(S_SIGN_OFF),
        base: json!({ "schoolUrn": S_SIGN_OFF, "document": "TERMLY_REPORT",
                      "academicYear": 2024, "term": "AUTUMN", "reportVersion": 1,
                      "signedOn": "2025-01-20", "signedBy": "Fuzz Chair", "role": "CHAIR",
                      "statement": "Fuzz statement" }),
        fields: vec![
            Field::new("schoolUrn", Kind::Urn, Invalid),
            // Another document takes a date, not a report's term.
            Field::new("document", Kind::Enum(DOCUMENTS), Invalid)
                .out("/document")
                .alt("input.academicYear")
                .alt("input.documentDate"),
            Field::new(
                "academicYear",
                Kind::Existing {
                    min: 2009,
                    max: next_year,
                    known: &[2024],
                },
                Invalid,
            )
            .out("/academicYear")
            .alt("input.term")
            .code("NOT_FOUND"),
            Field::new("term", Kind::Enum(TERMS), Invalid)
                .out("/term")
                .code("NOT_FOUND"),
            // The latest version when omitted; a version the report never had is not there.
            Field::new(
                "reportVersion",
                Kind::Existing {
                    min: 1,
                    max: i64::from(i32::MAX),
                    known: &[1],
                },
                Default,
            )
            .out("/reportVersion")
            .default(json!(1))
            .code("NOT_FOUND"),
            Field::new("signedOn", past(), Invalid).out("/signedOn"),
            Field::new("signedBy", Kind::Name, Invalid).out("/signedBy"),
            Field::new("role", Kind::Enum(ROLES), Invalid).out("/role"),
            // Blank or omitted, the standard statement is signed (so no round trip to check).
            Field::new("statement", text(2_000), Default),
        ],
        snap: Snap::Schools(vec![S_SIGN_OFF]),
        refresh: Refresh::None,
        seed: 0x5eed_0105,
    });
}

// ---------------------------------------------------------------------------------------
// The schema's mutations
// ---------------------------------------------------------------------------------------

/// The field names of `type Mutation` in `schema.graphql`.
fn schema_mutations() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo_root().join("schema.graphql")).unwrap();
    let mut lines = text.lines().skip_while(|l| l.trim() != "type Mutation {");
    assert!(
        lines.next().is_some(),
        "schema.graphql has no `type Mutation`"
    );
    let mut out = BTreeSet::new();
    let (mut in_description, mut parens) = (false, 0_i32);
    for line in lines {
        let t = line.trim();
        if t.starts_with("\"\"\"") {
            if !(t.len() >= 6 && t.ends_with("\"\"\"")) {
                in_description = !in_description;
            }
            continue;
        }
        if in_description {
            continue;
        }
        if parens == 0 && t == "}" {
            break;
        }
        if parens == 0 {
            let ident: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !ident.is_empty() {
                out.insert(ident);
            }
        }
        parens += t.matches('(').count() as i32 - t.matches(')').count() as i32;
    }
    out
}

#[test]
fn every_mutation_is_fuzzed() {
    let placeholder = World {
        appt_update: "1".into(),
        appt_end: "2".into(),
        person: "3".into(),
        prior_person: "4".into(),
        record_person: "11".into(),
        qual: "6".into(),
        evidence_person: "12".into(),
        cluster_senco: "7".into(),
        cluster_update: "8".into(),
        cluster_update_senco: "9".into(),
        cluster_review: "10".into(),
        meeting_update: "1".into(),
        meeting_for_action: "2".into(),
        action_update: "1".into(),
        webhook: "12".into(),
    };
    let fuzzed: BTreeSet<String> = streams(&placeholder)
        .iter()
        .map(|s| s.mutation.to_owned())
        .collect();
    let mut schema = fuzzed_mutations();
    assert!(schema.len() >= 14, "parsed {schema:?}");
    for m in ARGUMENT_ONLY {
        assert!(schema.remove(m), "{m} is not a mutation of schema.graphql");
    }
    assert_eq!(
        fuzzed, schema,
        "every mutation of schema.graphql needs a fuzz stream (and no stream a mutation that \
         is gone)"
    );
}

// ---------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------

async fn snapshot(s: &TestServer, snap: &Snap) -> Value {
    match snap {
        Snap::Schools(urns) => {
            let mut q = String::from("{ ");
            for u in urns {
                q.push_str(&format!(
                    "a{u}: auditLog(schoolUrn: {u}) {{ totalCount }} \
                     s{u}: school(urn: {u}) {{ name localAuthority {{ code }} trust {{ uid }} \
                     phase kind isAcademy numberOnRoll predecessorUrn closedOn \
                     sencoAppointments {{ id startedOn endedOn isHeadteacher \
                     worksAsTeacherAtSchool onSeniorLeadershipTeam nonContactHoursPerWeek \
                     classTeachingFraction person {{ id trn fullName email hasQts \
                     inductionStatus qualifications {{ id kind provider startedOn completedOn \
                     expectedCompletionOn }} evidenceChecks {{ id checkedOn source confirms note }} \
                     priorService {{ startedOn endedOn description }} }} }} \
                     termlyReports {{ academicYear term version numberOnRoll budgetE1 \
                     expenditureToDate challenges senPolicyDate history {{ version }} }} \
                     governorMeetings {{ totalCount edges {{ node {{ id heldOn nextMeetingOn \
                     attendees {{ name role }} items {{ title keyPoints }} }} }} }} \
                     governanceActions {{ id area description owner dueOn status completedOn \
                     cost timeHours successCriteria monitoring evaluation meeting {{ id }} }} \
                     signOffs {{ id document academicYear term reportVersion documentDate \
                     signedOn signedBy role statement current }} }} \
                     c{u}: clusters(filter: {{ urns: [{u}] }}) {{ totalCount edges {{ node {{ \
                     id name startedOn lastReviewedOn reviewIntervalMonths endedOn \
                     members {{ urn }} senco {{ id }} }} }} }} "
                ));
            }
            if urns.contains(&S_UPSERT) {
                q.push_str(" schools(first: 1) { totalCount }");
            }
            q.push_str(" }");
            s.ok(&admin(), &q, json!({})).await
        }
        Snap::Las => {
            let mut v = s
                .ok(&admin(), "{ localAuthorities { code name } }", json!({}))
                .await;
            v["audit"] = json!(sql_count(s, "local_authority").await);
            v
        }
        Snap::Trusts => {
            use sea_orm::{ConnectionTrait, Statement};
            let conn = &s.state.db.conn;
            let rows = conn
                .query_all_raw(Statement::from_string(
                    conn.get_database_backend(),
                    "SELECT uid, name FROM trust ORDER BY uid",
                ))
                .await
                .unwrap();
            let trusts: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!([
                        r.try_get::<i32>("", "uid").unwrap(),
                        r.try_get::<String>("", "name").unwrap()
                    ])
                })
                .collect();
            json!({ "trusts": trusts, "audit": sql_count(s, "trust").await })
        }
        Snap::Calendar => {
            let mut v = s
                .ok(
                    &admin(),
                    "{ npqCohorts { startsOn registrationClosesOn expectedOutcomeMonths } }",
                    json!({}),
                )
                .await;
            v["audit"] = json!(sql_count(s, "npq_cohort").await);
            v
        }
        Snap::Webhooks { token, actor, id } => {
            use sea_orm::{ConnectionTrait, Statement};
            let v = s
                .ok(
                    token,
                    "{ webhooks(first: 250) { edges { node { id url types description \
                     active } } } }",
                    json!({}),
                )
                .await;
            let mut hooks = v["webhooks"]["edges"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if let Some(id) = id {
                hooks.retain(|e| e["node"]["id"] == id.as_str());
            }
            let conn = &s.state.db.conn;
            let row = conn
                .query_one_raw(Statement::from_string(
                    conn.get_database_backend(),
                    format!(
                        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_event \
                         WHERE entity = 'webhook' AND actor = '{actor}'"
                    ),
                ))
                .await
                .unwrap()
                .unwrap();
            json!({ "webhooks": hooks, "audit": row.try_get::<i64>("", "n").unwrap() })
        }
    }
}

/// A read of everything derived from what the stream's cases store (deadlines, compliance,
/// cluster checks, summaries), so that an accepted extreme value cannot break a reader.
fn readback(snap: &Snap) -> String {
    match snap {
        Snap::Schools(urns) => {
            let mut q = String::from("{ ");
            for u in urns {
                q.push_str(&format!(
                    "r{u}: school(urn: {u}) {{ isRelevantSchool predecessor {{ urn }} \
                     sencoAppointments {{ eligible qualification {{ deadline status \
                     daysRemaining priorServiceDays projection mustRegisterBy \
                     projectedQualifiedOn }} \
                     person {{ qualifications {{ countsTowardDuty }} }} }} \
                     termlyReports {{ dueOn budgetTotal budgetRemaining overspent \
                     signOffs {{ current }} }} \
                     compliance {{ code message }} \
                     governanceActions {{ overdue timesCarriedForward }} \
                     governorMeetings {{ edges {{ node {{ carriedForward {{ id }} }} }} }} \
                     trackRecord {{ version senSupportPercent nonContactHoursPer100Pupils }} }} \
                     k{u}: clusters(filter: {{ urns: [{u}] }}, first: 5) {{ edges {{ node {{ \
                     nextReviewDue totalNumberOnRoll issues {{ code message }} }} }} }} \
                     t{u}: termlySummary(academicYear: 2024, term: AUTUMN, \
                     filter: {{ urns: [{u}] }}) {{ totals {{ budgetTotal senSupportPercent }} }} "
                ));
            }
            q.push('}');
            q
        }
        Snap::Las => "{ localAuthorities { code name } }".into(),
        Snap::Trusts => {
            format!("{{ schools(filter: {{ trustUid: {FUZZ_TRUST} }}) {{ totalCount }} }}")
        }
        Snap::Calendar => "{ npqCohorts { expectedOutcomeOn } qualificationDeadlines(first: 50) { \
            projectionCounts { projection count } edges { node { projection mustRegisterBy \
            projectedQualifiedOn latestViableCohort { expectedOutcomeOn } } } } }"
            .into(),
        Snap::Webhooks { .. } => "{ webhooks(first: 250) { totalCount } }".into(),
    }
}

/// Audit rows about one kind of reference data (they belong to no school).
async fn sql_count(s: &TestServer, entity: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let conn = &s.state.db.conn;
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_event WHERE entity = '{entity}'"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// The report's current version for the base key, from a snapshot of its school.
fn current_version(snap: &Value, urn: i32) -> i64 {
    snap[format!("s{urn}")]["termlyReports"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|r| r["academicYear"] == 2024 && r["term"] == "AUTUMN")
        })
        .and_then(|r| r["version"].as_i64())
        .unwrap_or(0)
}

/// One case: a field set to a value, or removed, or the whole input replaced.
#[derive(Clone, Debug)]
enum Change {
    Set(usize, Value),
    Remove(usize),
    /// The whole input replaced; built from the refreshed base when the case runs.
    Root(&'static str),
}

fn set_path(v: &mut Value, path: &[&str], new: Option<Value>) {
    let (last, parents) = path.split_last().unwrap();
    let mut cur = v;
    for p in parents {
        cur = match p.parse::<usize>() {
            Ok(i) if cur.as_array().is_some_and(|a| a.len() > i) => &mut cur[i],
            _ => &mut cur[*p],
        };
    }
    // A parent already replaced by a non-object (as in "every field null") has no fields.
    let Some(o) = cur.as_object_mut() else {
        return;
    };
    match new {
        Some(x) => {
            o.insert((*last).to_owned(), x);
        }
        None => {
            o.remove(*last);
        }
    }
}

fn cases(st: &Stream, stream_no: u64) -> Vec<Change> {
    let mut r = Rng::new(st.seed);
    let avoid: BTreeSet<i64> = world_urns()
        .into_iter()
        .chain(WORLD_LAS.iter().map(|x| i64::from(*x)))
        .chain([i64::from(WORLD_TRUST)])
        .chain(NO_SUCH_URNS)
        .collect();
    let mut out = Vec::new();
    for (i, f) in st.fields.iter().enumerate() {
        for v in values_for(f, &mut r, stream_no, &avoid) {
            out.push(Change::Set(i, v));
        }
        out.push(Change::Remove(i));
    }
    for label in [
        "input null",
        "input a string",
        "input a number",
        "input a list",
        "input empty",
        "input with an unknown field",
        "every field null",
    ] {
        out.push(Change::Root(label));
    }
    out
}

/// The first place two snapshots differ, as `path: before -> after`.
fn diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                diff(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| diff(p, q, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {} -> {}", short(a), short(b))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 300 {
        format!(
            "{}... ({} chars)",
            &s[..s.floor_char_boundary(300)],
            s.len()
        )
    } else {
        s
    }
}

#[derive(Default)]
struct Outcome {
    cases: usize,
    refused: usize,
    accepted: usize,
    failures: Vec<String>,
    /// (mutation and field, an example) of refusals naming only `query`.
    query_only: Vec<(String, String)>,
    /// The same for refusals naming only the `input` argument.
    argument_only: Vec<(String, String)>,
    questionable: Vec<String>,
    valid_refused: Vec<String>,
}

async fn run_stream(s: &TestServer, st: &Stream, stream_no: u64) -> Outcome {
    let mut o = Outcome::default();
    let mut snap = snapshot(s, &st.snap).await;
    let mut open_appointment: Option<String> = None;
    for (n, change) in cases(st, stream_no).into_iter().enumerate() {
        o.cases += 1;
        let mut base = st.base.clone();
        let version = match &st.snap {
            Snap::Schools(urns) => current_version(&snap, urns[0]),
            _ => 0,
        };
        match st.refresh {
            Refresh::None => {}
            Refresh::FreshTrn => base["person"]["trn"] = json!(fresh_trn()),
            Refresh::Version => base["expectedVersion"] = json!(version),
            Refresh::OpenAppointment => {
                if let Some(id) = &open_appointment {
                    base["appointmentId"] = json!(id);
                }
            }
        }
        let (field, input, verdict) = match &change {
            Change::Set(i, v) => {
                let f = &st.fields[*i];
                let mut input = base.clone();
                set_path(&mut input, &f.path, Some(v.clone()));
                (Some(f), input, judge(f, v, version))
            }
            Change::Remove(i) => {
                let f = &st.fields[*i];
                let mut input = base.clone();
                set_path(&mut input, &f.path, None);
                let verdict = if f.null == Null::Invalid {
                    Verdict::Invalid("a required field left out".into())
                } else {
                    Verdict::Valid
                };
                (Some(f), input, verdict)
            }
            Change::Root(label) => {
                let input = match *label {
                    "input null" => Value::Null,
                    "input a string" => json!("x"),
                    "input a number" => json!(5),
                    "input a list" => json!([base.clone()]),
                    "input empty" => json!({}),
                    "input with an unknown field" => {
                        let mut v = base.clone();
                        v["unknownField"] = json!(1);
                        v
                    }
                    _ => {
                        let mut v = base.clone();
                        for f in &st.fields {
                            set_path(&mut v, &f.path, Some(Value::Null));
                        }
                        v
                    }
                };
                // Nulling every fuzzed field is valid when all of them are optional.
                let all_optional = st.fields.iter().all(|f| f.null != Null::Invalid);
                let verdict = if *label == "every field null" && all_optional {
                    Verdict::Valid
                } else {
                    Verdict::Invalid(format!("{label}: not a valid input object"))
                };
                (None, input, verdict)
            }
        };
        let what = match &change {
            Change::Set(i, v) => format!("{} = {}", st.fields[*i].name(), short(v)),
            Change::Remove(i) => format!("{} left out", st.fields[*i].name()),
            Change::Root(label) => (*label).to_owned(),
        };
        let key = format!(
            "{} {}",
            st.mutation,
            field.map_or_else(|| "(whole input)".to_owned(), Field::name)
        );
        let tag = format!("{} seed {:#x} case {n}: {what}", st.mutation, st.seed);
        let (status, body) = s
            .post(Some(&st.token), &st.query, json!({ "i": input }))
            .await;
        let after = snapshot(s, &st.snap).await;
        let mut fail = |why: String| {
            o.failures
                .push(format!("{tag}: {why}; response {}", short(&body)))
        };
        if status != 200 && status != 400 {
            fail(format!("HTTP {status}"));
        }
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        let data = &body["data"][st.mutation];
        if errors.is_empty() && data.is_null() {
            fail("neither data nor errors".into());
            snap = after;
            continue;
        }
        if errors.is_empty() {
            // Accepted.
            o.accepted += 1;
            match &verdict {
                Verdict::Invalid(why) => fail(format!("ACCEPTED INVALID ({why})")),
                Verdict::Questionable(why) => o.questionable.push(format!("{tag}: {why}")),
                Verdict::Valid => {}
            }
            if !matches!(verdict, Verdict::Invalid(_))
                && let (Some(f), Change::Set(_, v)) = (field, &change)
                && let (Some(out), Some(want)) = (f.out, expected_out(f, v))
            {
                let got = at(data, out);
                if !got.iter().any(|g| same_value(g, &want)) {
                    fail(format!(
                        "ROUND TRIP: {} came back as {}, want {}",
                        f.name(),
                        short(&Value::Array(got.into_iter().cloned().collect())),
                        short(&want)
                    ));
                }
            }
            // Each of these stores a new row whenever it succeeds; a snapshot blind to that
            // could not see a partial write either.
            let always_writes = [
                "appointSenco",
                "addPriorSencoService",
                "recordQualification",
                "createCluster",
                "recordEvidenceCheck",
                "recordGovernorMeeting",
                "addGovernanceAction",
                "signOffDocument",
            ];
            if always_writes.contains(&st.mutation) && after == snap {
                fail("accepted, but the snapshot shows nothing stored".into());
            }
            let (rs, rb) = s.post(Some(&admin()), &readback(&st.snap), json!({})).await;
            if rs != 200 || rb.get("errors").is_some() {
                fail(format!(
                    "READ BACK: after accepting it, reading the school fails: HTTP {rs} {}",
                    short(&rb)
                ));
            }
            snap = after;
            if st.refresh == Refresh::OpenAppointment && data["endedOn"].is_string() {
                let (id, _) = appoint(s, S_END_APPT).await;
                open_appointment = Some(id);
                snap = snapshot(s, &st.snap).await;
            }
            continue;
        }
        o.refused += 1;
        if verdict == Verdict::Valid
            && errors
                .iter()
                .any(|e| e["extensions"]["code"] == "BAD_USER_INPUT")
        {
            o.valid_refused.push(format!(
                "{tag}: {}",
                errors
                    .first()
                    .and_then(|e| e["message"].as_str())
                    .unwrap_or("")
            ));
        }
        if !body["data"].is_null() && !data.is_null() {
            fail("refused but data is set".into());
        }
        for e in &errors {
            let code = e["extensions"]["code"].as_str().unwrap_or("");
            let message = e["message"].as_str().unwrap_or("");
            match code {
                "" => fail(format!("an error without extensions.code: {message}")),
                "INTERNAL_SERVER_ERROR" => fail("INTERNAL_SERVER_ERROR".into()),
                "BAD_USER_INPUT" => {
                    let named = e["extensions"]["field"].as_str().unwrap_or("");
                    if named.is_empty() {
                        fail("BAD_USER_INPUT without extensions.field".into());
                    } else if named == "query" {
                        o.query_only
                            .push((key.clone(), format!("{tag}: {message}")));
                    } else if let Some(f) = field {
                        let want = f.name();
                        let fits = named == want
                            || f.alt_fields.contains(&named)
                            || want.starts_with(&format!("{named}."))
                            || named.starts_with(&format!("{want}."));
                        if named == "input" {
                            o.argument_only
                                .push((key.clone(), format!("{tag}: {message}")));
                        } else if !fits {
                            fail(format!("BAD_USER_INPUT names `{named}`, not `{want}`"));
                        }
                    } else if !named.starts_with("input") {
                        fail(format!(
                            "BAD_USER_INPUT names `{named}` for the whole input"
                        ));
                    }
                }
                other => {
                    if !field.is_some_and(|f| f.alt_codes.contains(&other)) {
                        fail(format!(
                            "refused with {other}, not BAD_USER_INPUT: {message}"
                        ));
                    }
                }
            }
        }
        if after != snap {
            fail(format!(
                "PARTIAL WRITE: refused, but the stored state changed: {}",
                diff(&snap, &after, "").unwrap_or_default()
            ));
            snap = after;
        }
    }
    o
}

/// Every mutation, every field, a few hundred hostile inputs each, one server.
#[tokio::test]
async fn hostile_inputs_are_refused_cleanly() {
    let started = Instant::now();
    let s = TestServer::start_with(FUZZ_ENV).await;
    let w = build_world(&s).await;
    let streams = streams(&w);
    let fuzzed: BTreeSet<String> = streams.iter().map(|s| s.mutation.to_owned()).collect();
    let mut schema = fuzzed_mutations();
    schema.retain(|m| !ARGUMENT_ONLY.contains(&m.as_str()));
    assert_eq!(fuzzed, schema, "every mutation is fuzzed");
    let outcomes = futures::future::join_all(
        streams
            .iter()
            .enumerate()
            .map(|(i, st)| run_stream(&s, st, i as u64)),
    )
    .await;
    let mut failures = Vec::new();
    let mut notes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut grouped: BTreeMap<&str, BTreeMap<String, (usize, String)>> = BTreeMap::new();
    let mut total = 0;
    for (st, o) in streams.iter().zip(&outcomes) {
        total += o.cases;
        println!(
            "{:<24} seed {:#x}: {:>4} cases, {:>4} refused, {:>3} accepted, {} failures, \
             {} name only `query`, {} name only the argument",
            st.mutation,
            st.seed,
            o.cases,
            o.refused,
            o.accepted,
            o.failures.len(),
            o.query_only.len(),
            o.argument_only.len()
        );
        failures.extend(o.failures.iter().cloned());
        for (k, v) in [
            (
                "accepted, questionable (allowed, reported)",
                &o.questionable,
            ),
            ("valid-looking values refused (reported)", &o.valid_refused),
        ] {
            notes.entry(k).or_default().extend(v.iter().cloned());
        }
        for (k, v) in [
            (
                "refusals whose extensions.field is only `query` (async-graphql coercion)",
                &o.query_only,
            ),
            (
                "refusals whose extensions.field is only the `input` argument",
                &o.argument_only,
            ),
        ] {
            let g = grouped.entry(k).or_default();
            for (key, example) in v {
                let e = g.entry(key.clone()).or_insert((0, example.clone()));
                e.0 += 1;
            }
        }
    }
    for (k, g) in &grouped {
        println!("\n{k}, by field ({} fields):", g.len());
        for (key, (n, example)) in g {
            println!(
                "  {key}: {n} cases, e.g. {}",
                example.chars().take(200).collect::<String>()
            );
        }
    }
    for (k, v) in &notes {
        println!("\n{k} ({}):", v.len());
        for line in v.iter().take(60) {
            println!("  {}", line.chars().take(300).collect::<String>());
        }
        if v.len() > 60 {
            println!("  ... and {} more", v.len() - 60);
        }
    }
    println!(
        "\n{total} cases in {:.1?}, {} failures",
        started.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} hostile inputs were mishandled:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Bodies no JSON encoder would produce: lone surrogates, bad UTF-8, deep nesting, huge
/// numbers. Refused (or answered) without a 5xx, and nothing written.
#[tokio::test]
async fn malformed_bodies_are_refused_cleanly() {
    let s = TestServer::start_with(FUZZ_ENV).await;
    build_world(&s).await;
    let q = r#"mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code } }"#;
    let before = snapshot(&s, &Snap::Las).await;
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let bodies: Vec<(String, Vec<u8>)> = vec![
        (
            "lone surrogate".into(),
            format!(r#"{{"query":"{q}","variables":{{"i":{{"code":301,"name":"\ud800"}}}}}}"#)
                .into_bytes(),
        ),
        (
            "escaped NUL".into(),
            format!(r#"{{"query":"{q}","variables":{{"i":{{"code":301,"name":"a\u0000"}}}}}}"#)
                .into_bytes(),
        ),
        ("invalid UTF-8".into(), {
            let mut b =
                format!(r#"{{"query":"{q}","variables":{{"i":{{"code":301,"name":""#).into_bytes();
            b.extend([0xff, 0xfe, 0xc3]);
            b.extend(br#""}}}"#);
            b
        }),
        (
            "a number too big for any type".into(),
            format!(
                r#"{{"query":"{q}","variables":{{"i":{{"code":1{},"name":"x"}}}}}}"#,
                "0".repeat(400)
            )
            .into_bytes(),
        ),
        (
            "deeply nested variables".into(),
            format!(r#"{{"query":"{q}","variables":{{"i":{deep}}}}}"#).into_bytes(),
        ),
        (
            "duplicate keys".into(),
            format!(
                r#"{{"query":"{q}","variables":{{"i":{{"code":301,"code":"x","name":"x"}}}}}}"#
            )
            .into_bytes(),
        ),
        (
            "truncated".into(),
            br#"{"query":"mutation { upsertLoc"#.to_vec(),
        ),
        ("not JSON".into(), b"\x00\x01\x02".to_vec()),
    ];
    let mut failures = Vec::new();
    for (label, body) in bodies {
        let resp = s
            .client
            .post(s.url())
            .bearer_auth(admin())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let json: Value = resp.json().await.unwrap_or(Value::Null);
        println!("{label}: HTTP {status} {}", short(&json));
        if status >= 500 {
            failures.push(format!("{label}: HTTP {status}"));
        }
        for e in json["errors"].as_array().into_iter().flatten() {
            match e["extensions"]["code"].as_str() {
                None => failures.push(format!("{label}: an error without a code: {e}")),
                Some("INTERNAL_SERVER_ERROR") => failures.push(format!("{label}: {e}")),
                _ => {}
            }
        }
    }
    let after = snapshot(&s, &Snap::Las).await;
    if after != before {
        failures.push(format!("something was written: {before} -> {after}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `deleteNpqCohort(startsOn:)` takes a date, not an input object: hostile values for it are
/// refused with a code and leave the calendar and its audit rows as they were; a valid day
/// with no cohort is `false`, and admin alone may ask.
#[tokio::test]
async fn delete_npq_cohort_refuses_hostile_dates_cleanly() {
    let s = TestServer::start().await;
    let q = "mutation($i: Date!) { deleteNpqCohort(startsOn: $i) }";
    let before = snapshot(&s, &Snap::Calendar).await;
    let mut r = Rng::new(0x5eed_0019);
    let mut failures = Vec::new();
    for v in dates(&mut r).into_iter().chain([Value::Null]) {
        let valid = v
            .as_str()
            .filter(|t| {
                t.len() == 10
                    && t.bytes().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    })
            })
            .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok());
        // Every cohort of the illustrative calendar starts on 1 November: these values name
        // none of them, so even an accepted one deletes nothing.
        if valid.is_some_and(|d| d.month() == 11 && d.day() == 1) {
            continue;
        }
        let (status, body) = s.post(Some(&admin()), q, json!({ "i": v })).await;
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("");
        let fine = match valid {
            Some(_) => status == 200 && body["data"]["deleteNpqCohort"] == false,
            None => (status == 200 || status == 400) && code == "BAD_USER_INPUT",
        };
        if !fine {
            failures.push(format!("{}: HTTP {status} {}", short(&v), short(&body)));
        }
    }
    let (code, _) = s
        .err(
            Some(&token("la", "la:202:write")),
            q,
            json!({ "i": "2025-11-01" }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    assert_eq!(
        snapshot(&s, &Snap::Calendar).await,
        before,
        "nothing deleted"
    );
    assert!(failures.is_empty(), "{failures:#?}");
    s.stop().await;
}
