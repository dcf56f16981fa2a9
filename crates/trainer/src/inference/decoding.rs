//! Decoding settings: greedy or beam search.

use honyaku_core::{BeamConfig, SearchConfig};

/// How to search: greedy, or beam search with n-best lists.
#[derive(Debug, Clone, Copy)]
pub enum Decoding {
    /// One best token at a time.
    Greedy(SearchConfig),
    /// Beam search.
    Beam(BeamConfig),
}

impl Decoding {
    /// Greedy for `beam <= 1` (with `nbest` 1), beam search otherwise.
    pub fn new(beam: usize, nbest: usize, alpha: f32) -> Self {
        let search = SearchConfig::default();
        if beam <= 1 && nbest <= 1 {
            Self::Greedy(search)
        } else {
            Self::Beam(BeamConfig {
                beam: beam.max(nbest),
                nbest,
                alpha,
                search,
            })
        }
    }

    /// Keep the attention weights of every generated token.
    pub fn with_attention(self) -> Self {
        match self {
            Self::Greedy(s) => Self::Greedy(SearchConfig {
                keep_attention: true,
                ..s
            }),
            Self::Beam(b) => Self::Beam(BeamConfig {
                search: SearchConfig {
                    keep_attention: true,
                    ..b.search
                },
                ..b
            }),
        }
    }
}
