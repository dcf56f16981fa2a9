//! `honyaku bench`: training and decoding throughput of one architecture on one backend, or
//! the backend's matmul rate, printed as one JSON object. See [`crate::bench`] for what is
//! counted.

use anyhow::{Result, bail};
use clap::Args;
use honyaku_core::Preset;
use serde_json::json;

use crate::arch::{Arch, ModelConfig};
use crate::backend::Backend;
use crate::bench::{BenchShape, bench_config, matmul_rate};
use crate::checks;
use crate::run::ModelOverlay;
use crate::values::parse_preset;

/// Arguments of `honyaku bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Architecture.
    #[arg(long, value_enum, default_value_t = Arch::Lstm)]
    pub arch: Arch,
    // The model flags: --attention, --cell.
    #[command(flatten)]
    pub model: ModelOverlay,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Model size: tiny, mini, small or base (the same configurations as `train`).
    #[arg(long, value_parser = parse_preset, default_value = "small")]
    pub preset: Preset,
    /// Sentences per batch.
    #[arg(long, default_value_t = 64, value_parser = checks::bench_dim)]
    pub batch: usize,
    /// Source columns (EOS included).
    #[arg(long, default_value_t = 16, value_parser = checks::bench_len)]
    pub src_len: usize,
    /// Target columns (BOS/EOS included).
    #[arg(long, default_value_t = 16, value_parser = checks::bench_len)]
    pub tgt_len: usize,
    /// Vocabulary size of both sides.
    #[arg(long, default_value_t = 8000, value_parser = checks::bench_vocab)]
    pub vocab: usize,
    /// Timed training updates.
    #[arg(long, default_value_t = 10, value_parser = checks::steps)]
    pub steps: usize,
    /// Untimed training updates before them.
    #[arg(long, default_value_t = 2, value_parser = checks::count)]
    pub warmup: usize,
    /// Greedy and beam decoding steps.
    #[arg(long, default_value_t = 32, value_parser = checks::bench_dim)]
    pub decode_len: usize,
    /// Beam size of the beam-search measurement.
    #[arg(long, default_value_t = 5, value_parser = checks::beam)]
    pub beam: usize,
    /// Row shards of each training batch on the CPU backends, trained on as many threads at
    /// once (as `train --cpu-shards`; 0: one per core, at most 4; 1: the whole batch on one
    /// thread).
    #[arg(long, default_value_t = 0, value_parser = checks::cpu_shards)]
    pub cpu_shards: usize,
    /// Seed of the model, the data and dropout.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Only measure the 1024×1024×1024 f32 matmul rate of the backend.
    #[arg(long)]
    pub matmul: bool,
}

/// The most scores (batch × length × vocabulary) of one bench step: 2^31 floats, 8 GiB.
const MAX_BENCH_LOGITS: u128 = 1 << 31;

/// Runs the benchmark and prints its JSON to stdout.
pub fn run(args: BenchArgs) -> Result<()> {
    let config = ModelConfig::preset(args.arch, args.preset, args.vocab, args.vocab);
    let config = args.model.apply(config).map_err(anyhow::Error::msg)?;
    let device = args.backend.device()?;
    if args.matmul {
        let matmul = matmul_rate(&device, 1024, 20);
        let out = json!({ "backend": args.backend.to_string(), "matmul": matmul });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if args.batch == 0 || args.src_len < 2 || args.tgt_len < 2 || args.vocab < 5 {
        bail!("bench needs --batch ≥ 1, --src-len ≥ 2, --tgt-len ≥ 2 and --vocab ≥ 5");
    }
    if args.beam > args.vocab {
        bail!(
            "--beam {} is wider than --vocab {}: a beam holds at most one hypothesis per token",
            args.beam,
            args.vocab
        );
    }
    let logits = [args.tgt_len, args.beam, args.decode_len]
        .iter()
        .map(|&n| (args.batch as u128) * (n as u128) * (args.vocab as u128))
        .max()
        .unwrap_or(0);
    if logits > MAX_BENCH_LOGITS {
        bail!(
            "--batch {} × --vocab {} × the longest of --tgt-len, --beam and --decode-len is {logits} \
             scores per step, more than the {MAX_BENCH_LOGITS} bench allows; lower --batch or --vocab",
            args.batch,
            args.vocab
        );
    }
    let shape = BenchShape {
        batch: args.batch,
        src_len: args.src_len,
        tgt_len: args.tgt_len,
        vocab: args.vocab,
        steps: args.steps.max(1),
        warmup: args.warmup,
        decode_len: args.decode_len,
        beam: args.beam.max(1),
        cpu_shards: args.cpu_shards,
    };
    let report = bench_config(config, args.preset, args.backend, shape, args.seed)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
