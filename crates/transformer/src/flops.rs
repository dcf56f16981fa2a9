//! The matmul FLOP count of a [`TransformerConfig`]'s forward pass.

use crate::config::TransformerConfig;

impl TransformerConfig {
    /// Matmul FLOPs (`2·m·n·k` per matmul) of one teacher-forced forward pass over one
    /// sentence pair of `src_len` source and `tgt_len` target tokens: per encoder layer and
    /// source token the fused QKV, attention scores and context, output and feed-forward
    /// projections; per decoder layer the same for self-attention over the target, the
    /// cross-attention's query, scores, context and output per target token and its fused
    /// key/value projection per source token; the output projection per target token.
    /// Embedding lookups, layer norms and other element-wise work are not counted.
    pub fn forward_flops(&self, src_len: usize, tgt_len: usize) -> f64 {
        let (s, t) = (src_len as f64, tgt_len as f64);
        let (d, ff) = (self.d_model as f64, self.d_ff as f64);
        let feed_forward = 2.0 * 2.0 * d * ff;
        // Scores and context over `keys` positions: 2·keys·d each.
        let attend = |keys: f64| 2.0 * 2.0 * keys * d;
        let encoder_token = 2.0 * d * 3.0 * d + attend(s) + 2.0 * d * d + feed_forward;
        let decoder_token = 2.0 * d * 3.0 * d
            + attend(t)
            + 2.0 * d * d
            + 2.0 * d * d
            + attend(s)
            + 2.0 * d * d
            + feed_forward;
        let cross_memory = 2.0 * d * 2.0 * d;
        let encoder = self.encoder_layers as f64 * s * encoder_token;
        let decoder = self.decoder_layers as f64 * (t * decoder_token + s * cross_memory);
        encoder + decoder + t * 2.0 * d * self.tgt_vocab as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_grow_with_the_lengths_and_the_layers() {
        let config = TransformerConfig::new(100, 100)
            .with_d_model(8)
            .with_d_ff(16)
            .with_encoder_layers(1)
            .with_decoder_layers(1);
        let (d, ff, v) = (8.0, 16.0, 100.0);
        // One source and one target token: encoder 2d·3d + 4d + 2d² + 4d·ff; decoder the same
        // self-attention, the cross-attention (2d² query, 4d attend, 2d² out) and 4d² memory.
        let encoder = 6.0 * d * d + 4.0 * d + 2.0 * d * d + 4.0 * d * ff;
        let decoder = 6.0 * d * d
            + 4.0 * d
            + 2.0 * d * d
            + 2.0 * d * d
            + 4.0 * d
            + 2.0 * d * d
            + 4.0 * d * ff
            + 4.0 * d * d;
        assert_eq!(config.forward_flops(1, 1), encoder + decoder + 2.0 * d * v);
        assert!(config.forward_flops(2, 1) > config.forward_flops(1, 1));
        let deeper = config.clone().with_decoder_layers(2);
        assert!(deeper.forward_flops(3, 3) > config.forward_flops(3, 3));
    }
}
