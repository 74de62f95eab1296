//! Trusted documents (SPEC 6; the persisted-documents appendix of GraphQL over HTTP): the
//! operations a deployment trusts, each under the id `sha256:<hex of its text>`. A request
//! may send `documentId` instead of `query`; with `SENCO_TRUSTED_DOCUMENTS_ONLY` free-form
//! text is refused for every token but `admin`.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The id of a document: `sha256:` and the lowercase hex of the SHA-256 of its text.
pub fn id_of(document: &str) -> String {
    let hex: String = Sha256::digest(document.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The trusted documents, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedDocuments {
    by_id: HashMap<String, String>,
}

impl TrustedDocuments {
    /// Reads a JSON object `{"sha256:<hex>": "<document>", ...}`, checking that every id
    /// is the hash of its document (a wrong id would run another operation than the one a
    /// client named).
    pub fn parse(json: &str) -> Result<Self, String> {
        let map: HashMap<String, String> = serde_json::from_str(json).map_err(|e| {
            format!("must be a JSON object of \"sha256:<hex>\": \"<document>\" ({e})")
        })?;
        for (id, document) in &map {
            let expected = id_of(document);
            if *id != expected {
                return Err(format!(
                    "the document under `{id}` hashes to `{expected}`: each id must be \
                     sha256: and the SHA-256 of its document's text"
                ));
            }
        }
        Ok(Self { by_id: map })
    }

    /// Reads the file at `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|m| format!("{}: {m}", path.display()))
    }

    /// The web console's own operations, as its build wrote them (`web/dist`); none when
    /// the embedded build has no manifest.
    pub fn console() -> Self {
        crate::http::console_documents()
            .and_then(|json| Self::parse(&json).ok())
            .unwrap_or_default()
    }

    /// The document under `id`.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).map(String::as_str)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_sha256_of_the_text() {
        assert_eq!(
            id_of(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let doc = "{ viewer { sub } }";
        let json = serde_json::json!({ id_of(doc): doc }).to_string();
        let t = TrustedDocuments::parse(&json).unwrap();
        assert_eq!(t.get(&id_of(doc)), Some(doc));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn a_wrong_id_or_a_malformed_file_is_refused() {
        let json = serde_json::json!({ id_of("{ a }"): "{ b }" }).to_string();
        assert!(
            TrustedDocuments::parse(&json)
                .unwrap_err()
                .contains("hashes to")
        );
        assert!(TrustedDocuments::parse("[1]").is_err());
    }
}
