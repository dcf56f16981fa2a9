//! The fused operation ([`crate::fused_lstm`]) against [`LstmLayer::run_steps`], the
//! tensor-operation recurrence it replaces on flex: the same outputs, and the same gradients
//! through autodiff. Here, beside the layer, because the fused module does not import it.

use super::*;
use crate::fused_lstm::lstm_sequence;
use crate::search::to_host_floats;
use burn::tensor::Distribution;

/// One test case: sizes, padding (per-row lengths) and direction.
struct Case {
    batch: usize,
    len: usize,
    d_input: usize,
    hidden: usize,
    lengths: Option<Vec<usize>>,
    reverse: bool,
}

/// The random values both runs share: input, loss weights, initial state.
struct Draws {
    x: Tensor<3>,
    r: Tensor<3>,
    r_h: Tensor<2>,
    r_c: Tensor<2>,
    h0: Tensor<2>,
    c0: Tensor<2>,
}

/// Everything one run gives: the outputs and the gradients of a random linear loss.
struct Run {
    outputs: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
}

fn normal<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

fn keep_mask(case: &Case, device: &Device) -> Option<Tensor<2>> {
    let lengths = case.lengths.as_ref()?;
    let values: Vec<f32> = lengths
        .iter()
        .flat_map(|&n| (0..case.len).map(move |t| if t < n { 1.0 } else { 0.0 }))
        .collect();
    Some(Tensor::from_data(
        TensorData::new(values, [case.batch, case.len]),
        device,
    ))
}

/// Runs `layer` over the case's input, fused or step by step, from a tracked random state,
/// and differentiates `Σ out·r₁ + Σ h·r₂ + Σ c·r₃` (fixed random `r`).
fn run(layer: &LstmLayer, case: &Case, inputs: &Draws, fused: bool) -> Run {
    let device = inputs.x.device();
    let (x, r_out) = (inputs.x.clone().require_grad(), inputs.r.clone());
    let state = LstmState {
        h: inputs.h0.clone().require_grad(),
        c: inputs.c0.clone().require_grad(),
    };
    let keep = keep_mask(case, &device);
    let xw = layer.input.forward(x.clone());
    let (out, fin) = if fused {
        let whh = layer.hidden.weight.val();
        lstm_sequence(xw, whh, state.clone(), keep, case.reverse)
    } else {
        layer.run_steps(xw, state.clone(), keep, case.reverse)
    };
    let (r_h, r_c) = (inputs.r_h.clone(), inputs.r_c.clone());
    let loss =
        (out.clone() * r_out).sum() + (fin.h.clone() * r_h).sum() + (fin.c.clone() * r_c).sum();
    let grads = loss.backward();
    let grad = |t: Option<Tensor<2>>| to_host_floats(t.expect("a gradient"));
    Run {
        outputs: vec![
            to_host_floats(out),
            to_host_floats(fin.h),
            to_host_floats(fin.c),
        ],
        grads: vec![
            to_host_floats(x.grad(&grads).expect("dx")),
            grad(layer.input.weight.grad(&grads)),
            to_host_floats(
                layer
                    .input
                    .bias
                    .as_ref()
                    .expect("bias")
                    .grad(&grads)
                    .expect("db"),
            ),
            grad(layer.hidden.weight.grad(&grads)),
            grad(state.h.grad(&grads)),
            grad(state.c.grad(&grads)),
        ],
    }
}

fn assert_close(what: &str, a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let tol = 1e-5 + 1e-4 * y.abs();
        assert!((x - y).abs() <= tol, "{what}[{i}]: fused {x}, steps {y}");
    }
}

/// The fused and the step-by-step recurrence give the same outputs and gradients.
fn check(case: Case) {
    let _rng = crate::rng_lock();
    let device = Device::flex().autodiff();
    let layer = LstmLayerConfig::new(case.d_input, case.hidden).init(&device);
    let inputs = Draws {
        x: normal([case.batch, case.len, case.d_input], &device),
        r: normal([case.batch, case.len, case.hidden], &device),
        r_h: normal([case.batch, case.hidden], &device),
        r_c: normal([case.batch, case.hidden], &device),
        h0: normal([case.batch, case.hidden], &device).mul_scalar(0.5),
        c0: normal([case.batch, case.hidden], &device).mul_scalar(0.5),
    };
    let fused = run(&layer, &case, &inputs, true);
    let steps = run(&layer, &case, &inputs, false);
    for (name, (a, b)) in ["out", "h", "c"]
        .iter()
        .zip(fused.outputs.iter().zip(&steps.outputs))
    {
        assert_close(name, a, b);
    }
    let names = [
        "dx",
        "d input weight",
        "d bias",
        "d hidden weight",
        "dh0",
        "dc0",
    ];
    for (name, (a, b)) in names.iter().zip(fused.grads.iter().zip(&steps.grads)) {
        assert!(b.iter().any(|v| *v != 0.0), "{name}: all zero");
        assert_close(name, a, b);
    }
}

#[test]
fn forward_direction_matches_the_step_by_step_layer() {
    check(Case {
        batch: 3,
        len: 5,
        d_input: 3,
        hidden: 4,
        lengths: None,
        reverse: false,
    });
}

#[test]
fn reverse_direction_matches_the_step_by_step_layer() {
    check(Case {
        batch: 2,
        len: 4,
        d_input: 2,
        hidden: 3,
        lengths: None,
        reverse: true,
    });
}

#[test]
fn padded_rows_match_in_both_directions() {
    for reverse in [false, true] {
        check(Case {
            batch: 3,
            len: 6,
            d_input: 3,
            hidden: 5,
            lengths: Some(vec![6, 2, 4]),
            reverse,
        });
    }
}

/// Rows large enough for the thread pool (batch · h above the kernel's threshold).
#[test]
fn threaded_rows_match() {
    check(Case {
        batch: 40,
        len: 3,
        d_input: 8,
        hidden: 256,
        lengths: Some((0..40).map(|b| 1 + b % 3).collect()),
        reverse: false,
    });
}

/// A single position (a decoder step), small and threaded: the backward pass reads the
/// weight through a strided view instead of transposing it.
#[test]
fn single_steps_match() {
    for (batch, hidden) in [(3, 4), (40, 256)] {
        check(Case {
            batch,
            len: 1,
            d_input: 5,
            hidden,
            lengths: None,
            reverse: false,
        });
    }
}

/// Without autodiff (inference), the same values as the tracked run.
#[test]
fn inference_matches_the_step_by_step_layer() {
    let _rng = crate::rng_lock();
    let device = Device::flex();
    let layer = LstmLayerConfig::new(3, 4).init(&device);
    let x = normal([2, 5, 3], &device);
    let keep = Tensor::<2>::from_data([[1.0, 1.0, 1.0, 0.0, 0.0], [1.0; 5]], &device);
    for reverse in [false, true] {
        let zeros = LstmState::zeros(2, 4, &device);
        let xw = layer.input.forward(x.clone());
        let whh = layer.hidden.weight.val();
        let (a, fa) = lstm_sequence(xw.clone(), whh, zeros.clone(), Some(keep.clone()), reverse);
        let (b, fb) = layer.run_steps(xw, zeros, Some(keep.clone()), reverse);
        assert_close("out", &to_host_floats(a), &to_host_floats(b));
        assert_close("h", &to_host_floats(fa.h), &to_host_floats(fb.h));
        assert_close("c", &to_host_floats(fa.c), &to_host_floats(fb.c));
    }
}
