//! The identities and classifications of reference data (SPEC 4.1): a school's URN, an
//! LA's code, a trust's UID, and what kind of school it is and which phase it serves. The
//! store takes these, not bare integers and strings, so a URN cannot be passed where an LA
//! code is meant.

use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $t:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $t(pub i32);

        impl $t {
            /// The number as stored.
            pub fn get(self) -> i32 {
                self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$t> for i32 {
            fn from(v: $t) -> i32 {
                v.0
            }
        }
    };
}

id!(
    /// A school's unique reference number (GIAS `URN`).
    Urn
);
id!(
    /// A local authority's three-digit DfE code.
    LaCode
);
id!(
    /// An academy trust's GIAS group UID.
    TrustUid
);

/// The stored numbers of a list of identities.
pub fn numbers<T: Copy + Into<i32>>(ids: &[T]) -> Vec<i32> {
    ids.iter().map(|&i| i.into()).collect()
}

macro_rules! named {
    ($(#[$doc:meta])* $t:ident { $($(#[$vdoc:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $t {
            $($(#[$vdoc])* $v),*
        }

        impl $t {
            /// Every value, in the order the GraphQL enum lists them.
            pub const ALL: &'static [Self] = &[$(Self::$v),*];

            /// The stable wire and storage name, e.g. `"MAINSTREAM"`.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }

            /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named!(
    /// What kind of establishment a school is; decides whether the SENCO regulations bind it.
    SchoolKind {
        /// A mainstream school (maintained, academy or free school).
        Mainstream = "MAINSTREAM",
        /// A maintained nursery school.
        MaintainedNursery = "MAINTAINED_NURSERY",
        /// A special school.
        Special = "SPECIAL",
        /// Alternative provision.
        AlternativeProvision = "ALTERNATIVE_PROVISION",
        /// An independent school.
        Independent = "INDEPENDENT",
        /// Anything else.
        Other = "OTHER",
    }
);

named!(
    /// The phase of education a school provides (GIAS `PhaseOfEducation`).
    Phase {
        /// Nursery.
        Nursery = "NURSERY",
        /// Primary.
        Primary = "PRIMARY",
        /// Middle.
        Middle = "MIDDLE",
        /// Secondary.
        Secondary = "SECONDARY",
        /// All-through.
        AllThrough = "ALL_THROUGH",
        /// 16 plus.
        SixteenPlus = "SIXTEEN_PLUS",
        /// Not applicable.
        NotApplicable = "NOT_APPLICABLE",
    }
);

impl SchoolKind {
    /// Whether a school of this kind is a *relevant school* the SENCO regulations bind
    /// (SPEC 4.1; Children and Families Act 2014 s67 and SEND Regulations 2014 reg 49:
    /// mainstream schools and maintained nursery schools).
    pub fn is_relevant(self) -> bool {
        matches!(self, Self::Mainstream | Self::MaintainedNursery)
    }
}

/// [`SchoolKind::is_relevant`] for a stored kind; an unknown stored kind is not relevant.
pub fn is_relevant_kind(kind: &str) -> bool {
    SchoolKind::parse(kind).is_some_and(SchoolKind::is_relevant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for k in SchoolKind::ALL {
            assert_eq!(SchoolKind::parse(k.as_str()), Some(*k));
        }
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(*p));
        }
        assert_eq!(SchoolKind::parse("mainstream"), None);
    }

    #[test]
    fn only_mainstream_and_maintained_nursery_schools_are_relevant() {
        let relevant: Vec<_> = SchoolKind::ALL.iter().filter(|k| k.is_relevant()).collect();
        assert_eq!(
            relevant,
            [&SchoolKind::Mainstream, &SchoolKind::MaintainedNursery]
        );
        assert!(!is_relevant_kind("UNKNOWN"));
    }
}
