//! Masks, in Burn's polarity: `true` = masked out (padding or future).

use burn::prelude::*;

/// Padding mask `[batch, len]` from ids: `true` where the id is `pad_id`.
pub fn pad_mask(ids: Tensor<2, Int>, pad_id: u32) -> Tensor<2, Bool> {
    ids.equal_elem(pad_id as i64)
}

/// Causal mask `[len, len]`: `true` above the diagonal (position `i` may not see `j > i`).
pub fn causal_mask(len: usize, device: &Device) -> Tensor<2, Bool> {
    Tensor::<2, Bool>::tril_mask([len, len], 0, device)
}

/// `1.0` at real positions and `0.0` at masked ones, `[batch, len]`.
pub fn keep_weights(mask: Tensor<2, Bool>) -> Tensor<2> {
    mask.bool_not().float()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causal_mask_hides_only_the_future() {
        let device = Device::flex();
        let mask: Vec<bool> = causal_mask(3, &device).into_data().try_to_vec().unwrap();
        #[rustfmt::skip]
        let expected = vec![
            false, true, true,
            false, false, true,
            false, false, false,
        ];
        assert_eq!(mask, expected);
    }

    #[test]
    fn pad_mask_marks_pad_ids() {
        let device = Device::flex();
        let ids = Tensor::<2, Int>::from_data([[5, 6, 0], [7, 0, 0]], &device);
        let mask: Vec<bool> = pad_mask(ids, 0).into_data().try_to_vec().unwrap();
        assert_eq!(mask, vec![false, false, true, false, true, true]);
    }
}
