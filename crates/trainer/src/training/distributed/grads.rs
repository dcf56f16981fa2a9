//! The gradient exchange of a distributed update: every rank's gradients, flattened in the
//! module's parameter order into one vector of floats, summed over the ranks bucket by bucket
//! (each element in rank order, so the sum has the same bits on every rank and in every run),
//! and put back as gradients. The loss sums travel with them, so every rank sees the update's
//! loss and makes the same divergence-guard and clipping decisions.
//!
//! Each rank weights its batches' losses by their share of the target tokens of the whole
//! update (all ranks' batches), so the summed gradient is the gradient of the per-token loss
//! over every batch of the update: N ranks with a slice each equal one process with them all.

use anyhow::Result;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use honyaku_core::search::to_host_floats;

use super::{CollectiveError, Collectives, comm, grad_bytes_per_update, record_exchange, say};
use crate::training::step::{Gradients, StepStats};

/// Floats per bucket (16 MiB): large enough that the per-message latency is small next to the
/// transfer, small enough that no rank holds more than a few extra copies at once.
pub const BUCKET_FLOATS: usize = 1 << 22;

/// What one exchange moved, for the log and the measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GradientExchange {
    /// Gradient bytes summed (4 per parameter element).
    pub bytes: usize,
    /// Buckets they were cut into.
    pub buckets: usize,
}

/// Every float parameter's gradient in visiting order (zeros where this rank has none), and
/// whether it has one.
struct Flatten<'a> {
    grads: &'a GradientsParams,
    values: Vec<f32>,
    present: Vec<f64>,
}

impl ModuleVisitor for Flatten<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        match self.grads.get::<D>(param.id) {
            Some(g) => {
                self.values.extend(to_host_floats(g));
                self.present.push(1.0);
            }
            None => {
                let n = param.val().shape().num_elements();
                self.values.resize(self.values.len() + n, 0.0);
                self.present.push(0.0);
            }
        }
    }
}

/// The summed gradients back as tensors, for the parameters any rank had a gradient for (the
/// others stay without one, as in a single process: the optimizer leaves them alone).
struct Unflatten<'a> {
    values: &'a [f32],
    present: &'a [f64],
    offset: usize,
    index: usize,
    grads: GradientsParams,
}

impl ModuleVisitor for Unflatten<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.shape();
        let n = shape.num_elements();
        if self.present[self.index] > 0.0 {
            let values = self.values[self.offset..self.offset + n].to_vec();
            let device = t.device().without_autodiff();
            self.grads.register::<D>(
                param.id,
                Tensor::from_data(TensorData::new(values, shape), &device),
            );
        }
        self.offset += n;
        self.index += 1;
    }
}

/// Sums `values` over the ranks in buckets of `bucket` floats.
pub fn sum_in_buckets(
    comm: &dyn Collectives,
    values: &mut [f32],
    bucket: usize,
) -> Result<GradientExchange, CollectiveError> {
    let mut buckets = 0;
    for chunk in values.chunks_mut(bucket.max(1)) {
        comm.sum_f32(chunk, "the gradients")?;
        buckets += 1;
    }
    Ok(GradientExchange {
        bytes: 4 * values.len(),
        buckets,
    })
}

/// [distributed] The sum over all ranks of this rank's gradients and loss sums; without a
/// distributed job, `local` as it is.
pub fn all_reduce_grads<M: Module>(model: &M, local: Gradients) -> Result<Gradients> {
    let Some(comm) = comm() else {
        return Ok(local);
    };
    let Gradients { grads, stats } = local;
    let t0 = std::time::Instant::now();
    let mut flat = Flatten {
        grads: &grads,
        values: Vec::new(),
        present: Vec::new(),
    };
    model.visit(&mut flat);
    let (mut values, present) = (flat.values, flat.present);
    drop(grads);
    // The loss sums, then per parameter the number of ranks that have a gradient for it.
    let mut small = vec![stats.loss_x_tokens, stats.nll, stats.tokens as f64];
    small.extend(present);
    comm.sum_f64(&mut small, "the loss sums")?;
    let exchange = sum_in_buckets(&*comm, &mut values, BUCKET_FLOATS)?;
    if comm.rank() == 0 && grad_bytes_per_update() == 0 {
        say(&format!(
            "mpi: summing {} bytes of gradients ({} values in {} buckets) per update across {} \
             ranks",
            exchange.bytes,
            values.len(),
            exchange.buckets,
            comm.size()
        ));
    }
    record_exchange(exchange.bytes, t0.elapsed().as_secs_f64());
    let mut back = Unflatten {
        values: &values,
        present: &small[3..],
        offset: 0,
        index: 0,
        grads: GradientsParams::new(),
    };
    model.visit(&mut back);
    let stats = StepStats {
        loss_x_tokens: small[0],
        nll: small[1],
        tokens: small[2] as usize,
    };
    Ok(Gradients {
        grads: back.grads,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};

    use super::*;
    use crate::training::distributed::testing::on_ranks;

    fn read(grads: &GradientsParams, layer: &Linear) -> (Vec<f32>, Option<Vec<f32>>) {
        let weight = to_host_floats(grads.get::<2>(layer.weight.id).unwrap());
        let bias = layer
            .bias
            .as_ref()
            .and_then(|b| grads.get::<1>(b.id))
            .map(to_host_floats);
        (weight, bias)
    }

    #[test]
    fn gradients_and_loss_sums_are_summed_over_the_ranks() {
        let device = Device::flex();
        let layer = LinearConfig::new(3, 2).init(&device);
        let bias_id = layer.bias.as_ref().unwrap().id;
        let results = on_ranks(3, |rank| {
            let mut grads = GradientsParams::new();
            let w = Tensor::<2>::full([3, 2], rank as f32 + 1.0, &device);
            grads.register::<2>(layer.weight.id, w);
            // Only rank 2 has a bias gradient (its batches used it, say).
            if rank == 2 {
                grads.register::<1>(bias_id, Tensor::<1>::full([2], 0.5, &device));
            }
            let stats = StepStats {
                loss_x_tokens: 10.0 * (rank + 1) as f64,
                nll: 1.0,
                tokens: 5 + rank,
            };
            let sum = all_reduce_grads(&layer, Gradients { grads, stats }).unwrap();
            (
                read(&sum.grads, &layer),
                sum.stats.tokens,
                sum.stats.loss_x_tokens,
            )
        });
        for ((weight, bias), tokens, loss) in results {
            assert_eq!(weight, vec![6.0; 6]);
            assert_eq!(bias, Some(vec![0.5, 0.5]));
            assert_eq!((tokens, loss), (18, 60.0));
        }
    }

    #[test]
    fn a_parameter_no_rank_has_a_gradient_for_stays_without_one() {
        let device = Device::flex();
        let layer = LinearConfig::new(2, 2).init(&device);
        let results = on_ranks(2, |_| {
            let mut grads = GradientsParams::new();
            grads.register::<2>(layer.weight.id, Tensor::<2>::ones([2, 2], &device));
            let stats = StepStats::default();
            let sum = all_reduce_grads(&layer, Gradients { grads, stats }).unwrap();
            read(&sum.grads, &layer)
        });
        for (weight, bias) in results {
            assert_eq!(weight, vec![2.0; 4]);
            assert_eq!(bias, None);
        }
    }

    #[test]
    fn buckets_give_the_bits_of_one_sum_in_rank_order_on_every_rank() {
        let values = |rank: usize| -> Vec<f32> {
            (0..10)
                .map(|i| 0.1 * (i as f32 + 1.0) / (rank as f32 + 3.0))
                .collect()
        };
        let expected: Vec<f32> = (0..10)
            .map(|i| (values(0)[i] + values(1)[i]) + values(2)[i])
            .collect();
        let results = on_ranks(3, |rank| {
            let comm = comm().unwrap();
            let mut v = values(rank);
            let exchange = sum_in_buckets(&*comm, &mut v, 3).unwrap();
            (v, exchange)
        });
        for (v, exchange) in results {
            assert_eq!(v, expected);
            assert_eq!(
                exchange,
                GradientExchange {
                    bytes: 40,
                    buckets: 4
                }
            );
        }
    }

    /// The bytes one update exchanges and the parameter count of a model.
    struct ExchangeSize;

    impl crate::arch::ModelTask for ExchangeSize {
        type Output = (usize, usize);

        fn run<M: honyaku_core::Seq2Seq>(self, model: M) -> (usize, usize) {
            let none = Gradients {
                grads: GradientsParams::new(),
                stats: StepStats::default(),
            };
            all_reduce_grads(&model, none).unwrap();
            (grad_bytes_per_update(), Module::num_params(&model))
        }
    }

    #[test]
    fn an_update_exchanges_four_bytes_per_parameter_of_every_preset() {
        use crate::arch::{Arch, ModelConfig};
        use honyaku_core::Preset;
        on_ranks(1, |_| {
            for arch in Arch::ALL {
                for preset in [Preset::Tiny, Preset::Small, Preset::Base] {
                    let config = ModelConfig::preset(arch, preset, 8000, 8000);
                    let (bytes, params) = config.run(&Device::flex(), ExchangeSize);
                    eprintln!("{arch} {preset}: {params} parameters, {bytes} bytes per update");
                    assert_eq!(bytes, 4 * params, "{arch} {preset}");
                }
            }
        });
    }

    #[test]
    fn ranks_that_disagree_about_the_length_get_an_error_naming_the_rank() {
        let results = on_ranks(2, |rank| {
            let comm = comm().unwrap();
            let mut v = vec![1.0f32; 3 + rank];
            comm.sum_f32(&mut v, "the gradients")
                .unwrap_err()
                .to_string()
        });
        assert_eq!(
            results[0],
            "rank 1 sent 4 values to `the gradients`, rank 0 sent 3"
        );
    }
}
