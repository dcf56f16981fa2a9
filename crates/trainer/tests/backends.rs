//! Backend agreement: the same tiny model, from the same initial weights, trained a few steps on
//! flex and on wgpu (Mesa's lavapipe on CI machines) gives the same losses.

use burn::module::Module;
use burn::store::ModuleRecord;
use honyaku::backend::Backend;
use honyaku_conformance::fit;
use honyaku_core::Preset;
use honyaku_data::batcher::{EncodedPair, HostBatch};
use honyaku_lstm::LstmSeq2SeqConfig;

fn pairs() -> Vec<EncodedPair> {
    (0..6u32)
        .map(|i| {
            let src: Vec<u32> = (0..3 + i % 4).map(|j| 4 + (i * 7 + j * 3) % 16).collect();
            EncodedPair {
                tgt: src.iter().rev().copied().collect(),
                src,
            }
        })
        .collect()
}

#[test]
fn flex_and_wgpu_losses_agree_from_the_same_weights() {
    let flex = Backend::Flex.train_device().unwrap();
    let wgpu = Backend::Wgpu.train_device().unwrap_or_else(|e| {
        panic!("{e}\n(the test runner scripts/test.sh installs Mesa's lavapipe)")
    });
    flex.seed(11);
    let config = LstmSeq2SeqConfig::preset(Preset::Tiny, 20, 20);
    let on_flex = config.init(&flex);
    let bytes = on_flex.clone().into_record().into_bytes().unwrap();
    let on_wgpu = config
        .init(&wgpu)
        .load_record(ModuleRecord::from_bytes(bytes).unwrap());

    let pairs = pairs();
    let refs: Vec<&EncodedPair> = pairs.iter().collect();
    let host = HostBatch::from_pairs(&refs);
    let (_, flex_losses) = fit(on_flex, &[host.to_batch(&flex)], 5, 1e-2);
    let (_, wgpu_losses) = fit(on_wgpu, &[host.to_batch(&wgpu)], 5, 1e-2);

    assert!(
        flex_losses[4] < flex_losses[0],
        "training lowers the loss: {flex_losses:?}"
    );
    for (f, w) in flex_losses.iter().zip(&wgpu_losses) {
        assert!(
            (f - w).abs() <= 1e-3 * f.abs().max(1.0),
            "flex {flex_losses:?} vs wgpu {wgpu_losses:?}"
        );
    }
}
