//! sacreBLEU-style reproducibility signatures such as
//! `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`.

use std::fmt;

/// The sacreBLEU release whose behaviour this crate reproduces and whose
/// version string appears in every signature.
pub const SACREBLEU_VERSION: &str = "2.6.0";

/// A metric signature: the reference count, optional bootstrap settings, the
/// metric's own `key:value` fields and the sacreBLEU version, in sacreBLEU's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    nrefs: usize,
    bootstrap: Option<(usize, u64)>,
    fields: Vec<(&'static str, String)>,
}

impl Signature {
    /// A signature for `nrefs` references and the given metric fields.
    pub fn new(nrefs: usize, fields: Vec<(&'static str, String)>) -> Self {
        Self {
            nrefs,
            bootstrap: None,
            fields,
        }
    }

    /// Adds the `bs:<n>|seed:<seed>` fields sacreBLEU prints for paired bootstrap tests.
    pub fn with_bootstrap(mut self, n_samples: usize, seed: u64) -> Self {
        self.bootstrap = Some((n_samples, seed));
        self
    }

    /// The value of a metric field such as `tok` or `nc`, if present.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "nrefs:{}", self.nrefs)?;
        if let Some((n, seed)) = self.bootstrap {
            write!(f, "|bs:{n}|seed:{seed}")?;
        }
        for (key, value) in &self.fields {
            write!(f, "|{key}:{value}")?;
        }
        write!(f, "|version:{SACREBLEU_VERSION}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Signature {
        Signature::new(2, vec![("case", "lc".into()), ("tok", "intl".into())])
    }

    #[test]
    fn formats_fields_in_order_with_version_last() {
        assert_eq!(
            sample().to_string(),
            format!("nrefs:2|case:lc|tok:intl|version:{SACREBLEU_VERSION}")
        );
    }

    #[test]
    fn bootstrap_fields_follow_nrefs() {
        let sig = sample().with_bootstrap(1000, 12345);
        assert!(
            sig.to_string()
                .starts_with("nrefs:2|bs:1000|seed:12345|case:lc|")
        );
    }

    #[test]
    fn field_lookup() {
        assert_eq!(sample().field("tok"), Some("intl"));
        assert_eq!(sample().field("nc"), None);
    }
}
