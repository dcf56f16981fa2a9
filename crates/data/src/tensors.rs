//! Host batches onto a device: the bridge from the data pipeline to the models.

use burn::prelude::Device;
use honyaku_core::batch::{ids_tensor, mask_tensor};
use honyaku_core::{SourceBatch, TranslationBatch};

use crate::batcher::{HostBatch, HostSource};

impl HostBatch {
    /// The batch as tensors on `device`.
    pub fn to_batch(&self, device: &Device) -> TranslationBatch {
        let (rows, src_len, tgt_len) = (self.batch_size, self.src_len, self.tgt_len);
        TranslationBatch {
            source: SourceBatch {
                src: ids_tensor(self.src.clone(), rows, src_len, device),
                src_pad: mask_tensor(self.src_pad.clone(), rows, src_len, device),
            },
            tgt_in: ids_tensor(self.tgt_in.clone(), rows, tgt_len, device),
            tgt_out: ids_tensor(self.tgt_out.clone(), rows, tgt_len, device),
            tgt_pad: mask_tensor(self.tgt_pad.clone(), rows, tgt_len, device),
        }
    }
}

impl HostSource {
    /// The source sentences as tensors on `device`.
    pub fn to_source(&self, device: &Device) -> SourceBatch {
        SourceBatch {
            src: ids_tensor(self.src.clone(), self.batch_size, self.src_len, device),
            src_pad: mask_tensor(self.src_pad.clone(), self.batch_size, self.src_len, device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batcher::EncodedPair;

    #[test]
    fn tensors_hold_the_host_values() {
        let pairs = [
            EncodedPair {
                src: vec![5, 6],
                tgt: vec![7],
            },
            EncodedPair {
                src: vec![8],
                tgt: vec![9, 10],
            },
        ];
        let refs: Vec<&EncodedPair> = pairs.iter().collect();
        let host = HostBatch::from_pairs(&refs);
        let batch = host.to_batch(&Device::flex());
        assert_eq!(batch.source.src.dims(), [2, host.src_len]);
        let tgt_out: Vec<i64> = batch.tgt_out.try_into_vec_as::<i64>().unwrap();
        assert_eq!(tgt_out, host.tgt_out);
        let pad: Vec<bool> = batch.tgt_pad.into_data().try_to_vec().unwrap();
        assert_eq!(pad, host.tgt_pad);
    }
}
