//! Batch types on the device. The data crate builds them (padding and the teacher-forcing shift
//! happen there); models only read them.

use burn::prelude::*;

/// A batch of source sentences: what `encode` needs.
#[derive(Debug, Clone)]
pub struct SourceBatch {
    /// Source ids, `[batch, src_len]`, right-padded with `PAD_ID`, each row ending in `EOS_ID`.
    pub src: Tensor<2, Int>,
    /// `[batch, src_len]`, `true` where `src` is padding.
    pub src_pad: Tensor<2, Bool>,
}

/// A teacher-forced training batch.
#[derive(Debug, Clone)]
pub struct TranslationBatch {
    /// The source side.
    pub source: SourceBatch,
    /// Decoder inputs `[batch, tgt_len]`: `BOS y1 .. yn`, right-padded.
    pub tgt_in: Tensor<2, Int>,
    /// Decoder outputs `[batch, tgt_len]`: `y1 .. yn EOS`, right-padded.
    pub tgt_out: Tensor<2, Int>,
    /// `[batch, tgt_len]`, `true` where the target is padding.
    pub tgt_pad: Tensor<2, Bool>,
}

/// Builds an id tensor `[rows, cols]` from row-major host ids.
pub fn ids_tensor(ids: Vec<i64>, rows: usize, cols: usize, device: &Device) -> Tensor<2, Int> {
    Tensor::from_data(TensorData::new(ids, [rows, cols]), device)
}

/// Builds a mask tensor `[rows, cols]` from row-major host flags (`true` = masked out).
pub fn mask_tensor(flags: Vec<bool>, rows: usize, cols: usize, device: &Device) -> Tensor<2, Bool> {
    Tensor::from_data(TensorData::new(flags, [rows, cols]), device)
}

impl SourceBatch {
    /// Number of sentences.
    pub fn batch_size(&self) -> usize {
        self.src.dims()[0]
    }

    /// Moves the batch to another device.
    pub fn to_device(self, device: &Device) -> Self {
        Self {
            src: self.src.to_device(device),
            src_pad: self.src_pad.to_device(device),
        }
    }
}

impl TranslationBatch {
    /// Moves the batch to another device.
    pub fn to_device(self, device: &Device) -> Self {
        Self {
            source: self.source.to_device(device),
            tgt_in: self.tgt_in.to_device(device),
            tgt_out: self.tgt_out.to_device(device),
            tgt_pad: self.tgt_pad.to_device(device),
        }
    }
}
