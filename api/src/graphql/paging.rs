//! Relay cursor connections: `first`/`after` validated into a store page, opaque cursors,
//! `PageInfo`, and the macro that declares each connection and edge type.

use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{ApiError, ApiResult};
use crate::store::{Page, Paged};

/// Default page size.
pub const DEFAULT_PAGE: i32 = 50;
/// Largest page size.
pub const MAX_PAGE: i32 = 250;

/// Validates `first`/`after` into a store page, decoding the cursor with `decode`.
pub fn page<K>(
    first: Option<i32>,
    after: Option<String>,
    decode: impl Fn(&str) -> Option<K>,
) -> ApiResult<Page<K>> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(ApiError::bad_input(
            "first",
            format!("must be between 0 and {MAX_PAGE}"),
        ));
    }
    // An empty cursor is the start of the list, as no cursor is.
    let after = match after.filter(|c| !c.is_empty()) {
        None => None,
        Some(cursor) => Some(
            URL_SAFE_NO_PAD
                .decode(cursor.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| decode(&s))
                .ok_or_else(|| ApiError::bad_input("after", "is not a cursor this list gave"))?,
        ),
    };
    Ok(Page {
        first: first as u64,
        after,
    })
}

/// Encodes a cursor from its plain form.
pub fn cursor(plain: &str) -> String {
    URL_SAFE_NO_PAD.encode(plain.as_bytes())
}

/// Where a page stands in the whole list (Relay `PageInfo`).
#[derive(SimpleObject, Clone)]
pub struct PageInfo {
    /// Whether items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page (true when `after` was given).
    pub has_previous_page: bool,
    /// The cursor of the first edge; null on an empty page.
    pub start_cursor: Option<String>,
    /// The cursor of the last edge; pass it as `after` for the next page. Null on an empty page.
    pub end_cursor: Option<String>,
}

/// A page built from store rows, ready to become one of the connection types.
pub struct Built<N> {
    /// (cursor, node) pairs.
    pub edges: Vec<(String, N)>,
    /// Paging.
    pub page_info: PageInfo,
    /// Total over every page.
    pub total_count: u64,
}

/// Builds a page from store rows; `f` gives each row's plain cursor and node.
pub fn connection<R, N>(
    paged: Paged<R>,
    has_previous: bool,
    mut f: impl FnMut(R) -> (String, N),
) -> Built<N> {
    let edges: Vec<(String, N)> = paged
        .rows
        .into_iter()
        .map(|r| {
            let (c, n) = f(r);
            (cursor(&c), n)
        })
        .collect();
    Built {
        page_info: PageInfo {
            has_next_page: paged.has_next,
            has_previous_page: has_previous,
            start_cursor: edges.first().map(|e| e.0.clone()),
            end_cursor: edges.last().map(|e| e.0.clone()),
        },
        edges,
        total_count: paged.total,
    }
}

/// Declares a Relay connection type and its edge type, both documented.
/// Extra fields (`#[doc = "..."] name: Type`) start as `Default::default()`, for the
/// resolver to fill.
macro_rules! connection_type {
    ($conn:ident, $edge:ident, $node:ty, $what:literal $(, #[doc = $doc:literal] $extra:ident : $ety:ty)* $(,)?) => {
        #[doc = concat!("A page of ", $what, " (Relay cursor connection).")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $conn {
            /// The items of this page, each with its cursor.
            pub edges: Vec<$edge>,
            /// Where this page stands in the whole list.
            pub page_info: $crate::graphql::paging::PageInfo,
            /// Items in the whole list, over every page.
            pub total_count: u64,
            $(
                #[doc = $doc]
                pub $extra: $ety,
            )*
        }

        #[doc = concat!("One of ", $what, ", with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Pass as `after` to get the items that follow this one.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl From<$crate::graphql::paging::Built<$node>> for $conn {
            fn from(b: $crate::graphql::paging::Built<$node>) -> Self {
                Self {
                    edges: b
                        .edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info: b.page_info,
                    total_count: b.total_count,
                    $($extra: Default::default(),)*
                }
            }
        }
    };
}
pub(crate) use connection_type;
