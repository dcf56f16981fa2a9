//! Position information added to the scaled token embeddings: fixed sinusoids (Vaswani et al.
//! 2017, section 3.5) or a learned table.

use burn::module::Param;
use burn::nn::{Initializer, generate_sinusoids};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// How positions are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionKind {
    /// Fixed sinusoids (`sin` on even features, `cos` on odd ones); not trained, not saved.
    #[default]
    Sinusoidal,
    /// A learned `[max_len, d_model]` table.
    Learned,
}

/// Configuration of [`PositionEncoding`].
#[derive(Config, Debug)]
pub struct PositionEncodingConfig {
    /// Model width (must be even for sinusoids).
    pub d_model: usize,
    /// Longest sequence (source or target) the table covers.
    pub max_len: usize,
    /// Sinusoidal or learned.
    #[config(default = "PositionKind::Sinusoidal")]
    pub kind: PositionKind,
}

impl PositionEncodingConfig {
    /// Builds the table. Panics when `d_model` is odd with sinusoids or `max_len > 10_000`
    /// ([`crate::TransformerConfig::validate`] reports both first).
    pub fn init(&self, device: &Device) -> PositionEncoding {
        match self.kind {
            PositionKind::Sinusoidal => PositionEncoding {
                sinusoids: Some(generate_sinusoids(
                    self.max_len,
                    self.d_model,
                    10_000,
                    device,
                )),
                learned: None,
                max_len: self.max_len,
            },
            PositionKind::Learned => PositionEncoding {
                sinusoids: None,
                learned: Some(
                    Initializer::Normal {
                        mean: 0.0,
                        std: (self.d_model as f64).powf(-0.5),
                    }
                    .init([self.max_len, self.d_model], device),
                ),
                max_len: self.max_len,
            },
        }
    }
}

/// Adds the encoding of positions `offset .. offset + len` to `[batch, len, d_model]` inputs.
#[derive(Module, Debug)]
pub struct PositionEncoding {
    /// Fixed sinusoid table `[max_len, d_model]` (a constant: rebuilt by `init`, not saved).
    pub sinusoids: Option<Tensor<2>>,
    /// Learned table `[max_len, d_model]`.
    pub learned: Option<Param<Tensor<2>>>,
    /// Rows in the table.
    pub max_len: usize,
}

impl PositionEncoding {
    /// The encodings of positions `offset .. offset + len`, `[len, d_model]`.
    ///
    /// Panics when `offset + len` exceeds `max_len` (the host-side step counter decides, no
    /// device read).
    pub fn rows(&self, offset: usize, len: usize) -> Tensor<2> {
        assert!(
            offset + len <= self.max_len,
            "position {} is past the position table (max_len = {}); raise `max_len`",
            offset + len - 1,
            self.max_len
        );
        let table = match (&self.sinusoids, &self.learned) {
            (Some(table), _) => table.clone(),
            (None, Some(table)) => table.val(),
            (None, None) => unreachable!("a position encoding has a table"),
        };
        table.slice(s![offset..offset + len, ..])
    }

    /// `x + P[offset .. offset + len]` for `x: [batch, len, d_model]`.
    pub fn forward(&self, x: Tensor<3>, offset: usize) -> Tensor<3> {
        let [_, len, _] = x.dims();
        x + self.rows(offset, len).unsqueeze::<3>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use honyaku_conformance::max_abs_diff;
    use honyaku_core::search::to_host_floats;

    #[test]
    fn offset_rows_match_the_full_table() {
        let device = Device::flex();
        for kind in [PositionKind::Sinusoidal, PositionKind::Learned] {
            let pe = PositionEncodingConfig::new(8, 16)
                .with_kind(kind)
                .init(&device);
            let x = Tensor::<3>::zeros([2, 10, 8], &device);
            let full = pe.forward(x, 0);
            let tail = pe.forward(Tensor::zeros([2, 3, 8], &device), 7);
            assert_eq!(tail.dims(), [2, 3, 8]);
            let diff = max_abs_diff(full.slice(s![.., 7..10, ..]), tail);
            assert!(diff == 0.0, "{kind:?}: {diff}");
        }
    }

    #[test]
    fn sinusoids_start_with_sin_zero_cos_one() {
        let device = Device::flex();
        let pe = PositionEncodingConfig::new(4, 4).init(&device);
        let row = to_host_floats(pe.rows(0, 1));
        assert_eq!(row, vec![0.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    #[should_panic(expected = "past the position table")]
    fn past_the_table_panics_clearly() {
        let device = Device::flex();
        let pe = PositionEncodingConfig::new(4, 4).init(&device);
        let _ = pe.rows(3, 2);
    }
}
