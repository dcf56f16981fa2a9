//! What one request may ask for, and how long it may take: the checks every translation request
//! passes before it reaches a model.

use std::time::Duration;

use super::error::ApiError;

/// Request limits of the server; each has a safe default and a `serve` flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most lines (sentences) in one request.
    pub max_lines: usize,
    /// Most source tokens in one line (a run's own maximum length caps it further).
    pub max_line_tokens: usize,
    /// Largest beam size.
    pub max_beam: usize,
    /// Time a request may wait for its translation before it is answered 503.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_lines: 64,
            max_line_tokens: 256,
            max_beam: 16,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Search settings of one request, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchRequest {
    /// Beam size (1 = greedy).
    pub beam: usize,
    /// Hypotheses per line, `1..=beam`.
    pub nbest: usize,
    /// Length penalty exponent.
    pub alpha: f32,
    /// Return attention weights.
    pub attention: bool,
}

impl Limits {
    /// Refuses limits that would make every request fail.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("--max-body-bytes", self.max_body_bytes),
            ("--max-lines", self.max_lines),
            ("--max-line-tokens", self.max_line_tokens),
            ("--max-beam", self.max_beam),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.timeout.is_zero() {
            return Err("--timeout-ms must be at least 1".into());
        }
        Ok(())
    }

    /// Checks the number of lines of a request.
    pub fn check_lines(&self, lines: &[String]) -> Result<(), ApiError> {
        if lines.is_empty() || lines.iter().all(|l| l.trim().is_empty()) {
            return Err(ApiError::bad_request(
                "`text` is empty: give at least one non-empty line to translate",
            ));
        }
        if lines.len() > self.max_lines {
            return Err(ApiError::too_large(format!(
                "{} lines in one request; the limit is {} (split the text over several requests)",
                lines.len(),
                self.max_lines
            )));
        }
        Ok(())
    }

    /// Checks one line's token count against this limit and the run's maximum length.
    pub fn check_tokens(&self, line: usize, tokens: usize, run_max: usize) -> Result<(), ApiError> {
        let limit = self.max_line_tokens.min(run_max);
        if tokens > limit {
            return Err(ApiError::too_large(format!(
                "line {} has {tokens} tokens; the limit is {limit} (split long sentences)",
                line + 1
            )));
        }
        Ok(())
    }

    /// Checks the search settings of a request.
    pub fn check_search(&self, search: &SearchRequest) -> Result<(), ApiError> {
        if search.beam == 0 || search.beam > self.max_beam {
            return Err(ApiError::bad_request(format!(
                "`beam` is {}; it must be between 1 and {}",
                search.beam, self.max_beam
            )));
        }
        if search.nbest == 0 || search.nbest > search.beam {
            return Err(ApiError::bad_request(format!(
                "`nbest` is {}; it must be between 1 and the beam size ({})",
                search.nbest, search.beam
            )));
        }
        if !(0.0..=5.0).contains(&search.alpha) {
            return Err(ApiError::bad_request(format!(
                "`alpha` is {}; it must be between 0 and 5",
                search.alpha
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(beam: usize, nbest: usize) -> SearchRequest {
        SearchRequest {
            beam,
            nbest,
            alpha: 0.6,
            attention: false,
        }
    }

    #[test]
    fn beam_and_nbest_ranges_are_enforced() {
        let limits = Limits::default();
        assert!(limits.check_search(&search(1, 1)).is_ok());
        assert!(limits.check_search(&search(16, 16)).is_ok());
        for (beam, nbest) in [(0, 1), (17, 1), (4, 0), (4, 5)] {
            let err = limits.check_search(&search(beam, nbest)).unwrap_err();
            assert_eq!(err.status.as_u16(), 400, "beam {beam} nbest {nbest}");
        }
    }

    #[test]
    fn empty_and_oversized_inputs_are_refused() {
        let limits = Limits {
            max_lines: 2,
            max_line_tokens: 5,
            ..Limits::default()
        };
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(limits.check_lines(&[]).unwrap_err().status.as_u16(), 400);
        let blank = limits.check_lines(&lines(&[" ", ""])).unwrap_err();
        assert_eq!(blank.status.as_u16(), 400);
        assert!(limits.check_lines(&lines(&["a", ""])).is_ok());
        let many = limits.check_lines(&lines(&["a", "b", "c"])).unwrap_err();
        assert_eq!(many.status.as_u16(), 413);
        assert!(limits.check_tokens(0, 5, 100).is_ok());
        assert_eq!(
            limits.check_tokens(0, 6, 100).unwrap_err().status.as_u16(),
            413
        );
        let capped = limits.check_tokens(2, 4, 3).unwrap_err();
        assert!(
            capped
                .message
                .contains("line 3 has 4 tokens; the limit is 3")
        );
    }

    #[test]
    fn zero_limits_are_refused() {
        let limits = Limits {
            max_lines: 0,
            ..Limits::default()
        };
        assert_eq!(
            limits.validate().unwrap_err(),
            "--max-lines must be at least 1"
        );
        assert!(Limits::default().validate().is_ok());
    }
}
