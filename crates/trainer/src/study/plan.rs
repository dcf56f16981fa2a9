//! The plan of a study: every child training run (the main run per architecture, the
//! data-regime points, the tuning sweep) and the time each gets out of `--budget-hours`,
//! estimated and printed before anything runs.

use std::fmt;

use honyaku_core::Preset;
use serde::Serialize;

use super::knobs::{Knob, KnobSetting};
use crate::arch::Arch;

/// What one child run measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSpec {
    /// The architecture.
    pub arch: Arch,
    /// Training pairs (`None`: the whole training set).
    pub size: Option<usize>,
    /// Seed of the run (and of the training subset).
    pub seed: u64,
    /// The knob and value it turns, if any.
    pub knob: Option<KnobPoint>,
}

/// One value of one knob.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnobPoint {
    /// Knob name.
    pub knob: String,
    /// Its value.
    pub value: String,
    /// What the value means for the run's architecture.
    #[serde(skip)]
    pub setting: KnobSetting,
}

impl RunSpec {
    /// The run's directory name under `runs/`, unique within a study.
    pub fn dir_name(&self) -> String {
        let size = self.size.map_or("all".to_string(), |n| n.to_string());
        let knob = self
            .knob
            .as_ref()
            .map_or(String::new(), |k| format!("-{}-{}", k.knob, k.value));
        format!("{}-{size}-s{}{knob}", self.arch.name(), self.seed)
    }
}

/// What a plan is made of.
#[derive(Debug, Clone)]
pub struct PlanInputs<'a> {
    /// Architectures.
    pub archs: &'a [Arch],
    /// Model preset.
    pub preset: Preset,
    /// Training pairs available.
    pub train_pairs: usize,
    /// Subset sizes of the data regime (those not below `train_pairs` are dropped).
    pub sizes: &'a [usize],
    /// Seeds per data-regime point, from `base_seed` up.
    pub seeds: usize,
    /// Seed of the main run.
    pub base_seed: u64,
    /// The knobs and the values to sweep.
    pub knobs: &'a [(Knob, Vec<String>)],
}

/// Every run, main runs first, with no duplicates: the main run is also the data regime's
/// whole-set point of the first seed and every knob's default value.
pub fn runs(p: &PlanInputs) -> Vec<RunSpec> {
    let mut out: Vec<RunSpec> = Vec::new();
    let mut push = |r: RunSpec| {
        if !out.iter().any(|o| o.dir_name() == r.dir_name()) {
            out.push(r);
        }
    };
    let sizes: Vec<Option<usize>> = p
        .sizes
        .iter()
        .filter(|&&n| n < p.train_pairs)
        .map(|&n| Some(n))
        .chain([None])
        .collect();
    for &arch in p.archs {
        push(RunSpec {
            arch,
            size: None,
            seed: p.base_seed,
            knob: None,
        });
    }
    for &arch in p.archs {
        for &size in &sizes {
            for s in 0..p.seeds as u64 {
                push(RunSpec {
                    arch,
                    size,
                    seed: p.base_seed + s,
                    knob: None,
                });
            }
        }
        for (knob, values) in p.knobs {
            for value in values {
                let Some(setting) = knob.setting(arch, p.preset, value) else {
                    continue;
                };
                if matches!(setting, KnobSetting::Default | KnobSetting::Invalid(_)) {
                    continue;
                }
                push(RunSpec {
                    arch,
                    size: None,
                    seed: p.base_seed,
                    knob: Some(KnobPoint {
                        knob: knob.name.into(),
                        value: value.clone(),
                        setting,
                    }),
                });
            }
        }
    }
    out
}

/// Rough costs the estimate uses besides training time.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Overheads {
    /// Per run: starting the child, loading data, translating and scoring the test set.
    pub per_run_minutes: f64,
    /// The throughput and latency measurements, all architectures together.
    pub speed_minutes: f64,
    /// The least training time a run may get.
    pub min_train_minutes: f64,
}

/// The time plan of a study.
#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    /// Runs planned.
    pub runs: usize,
    /// Training minutes of each run.
    pub train_minutes: f64,
    /// The estimate of the whole study, minutes.
    pub total_minutes: f64,
    /// The overheads assumed.
    pub overheads: Overheads,
}

/// Why a plan does not fit its budget.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the study plans {runs} training runs; with {budget_minutes:.1} minutes each run would get \
     {per_run:.2} minutes of training, less than the {min:.2} minutes a run needs. Give \
     --budget-hours {needed_hours:.2} or more, or fewer runs (--archs, --data-sizes, --seeds, \
     --no-sweep)"
)]
pub struct DoesNotFit {
    runs: usize,
    budget_minutes: f64,
    per_run: f64,
    min: f64,
    needed_hours: f64,
}

impl Budget {
    /// Splits `budget_minutes` evenly over `runs` runs after the overheads.
    pub fn plan(runs: usize, budget_minutes: f64, o: Overheads) -> Result<Self, DoesNotFit> {
        let fixed = o.speed_minutes + runs as f64 * o.per_run_minutes;
        let per_run = (budget_minutes - fixed) / runs.max(1) as f64;
        if per_run < o.min_train_minutes {
            let needed = fixed + runs.max(1) as f64 * o.min_train_minutes;
            return Err(DoesNotFit {
                runs,
                budget_minutes,
                per_run: per_run.max(0.0),
                min: o.min_train_minutes,
                needed_hours: (needed / 60.0 * 100.0).ceil() / 100.0,
            });
        }
        Ok(Self {
            runs,
            train_minutes: per_run,
            total_minutes: fixed + per_run * runs as f64,
            overheads: o,
        })
    }
}

/// Rough training minutes a model of `preset` needs to learn the synthetic grammar corpus on
/// two CPU cores (`honyaku demo`'s `mini` models learn in 2.5 minutes each). Less is allowed,
/// with a warning: the report's learned check (see `learned.rs`) is what decides.
pub fn learn_minutes(preset: Preset) -> f64 {
    match preset {
        Preset::Tiny => 1.0,
        Preset::Mini => 1.5,
        Preset::Small => 5.0,
        Preset::Base => 15.0,
    }
}

impl Budget {
    /// A warning when each run gets less training than a `preset` model needs to learn.
    pub fn learn_warning(&self, preset: Preset) -> Option<String> {
        let need = learn_minutes(preset);
        (self.train_minutes < need).then(|| {
            format!(
                "each run gets {:.2} minutes of training, less than the ~{need} minutes a \
                 {preset} model needs to learn: expect runs that did not learn (the report \
                 marks them and their claims stay inconclusive); give --budget-hours {:.2} or \
                 more, or fewer runs",
                self.train_minutes,
                ((self.total_minutes + self.runs as f64 * (need - self.train_minutes)) / 60.0
                    * 100.0)
                    .ceil()
                    / 100.0
            )
        })
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} runs × ({:.2} min training + ~{:.2} min start and evaluation) + ~{:.1} min of \
             speed measurements ≈ {:.1} minutes ({:.2} hours)",
            self.runs,
            self.train_minutes,
            self.overheads.per_run_minutes,
            self.overheads.speed_minutes,
            self.total_minutes,
            self.total_minutes / 60.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::knobs::KNOBS;

    fn knobs(names: &[&str]) -> Vec<(Knob, Vec<String>)> {
        KNOBS
            .iter()
            .filter(|k| names.contains(&k.name))
            .map(|k| (*k, k.quick.iter().map(|v| v.to_string()).collect()))
            .collect()
    }

    #[test]
    fn the_main_run_serves_the_data_regime_and_the_knob_defaults() {
        let k = knobs(&["layers", "heads"]);
        let p = PlanInputs {
            archs: &[Arch::Lstm, Arch::Transformer],
            preset: Preset::Tiny,
            train_pairs: 1500,
            sizes: &[500, 2000],
            seeds: 2,
            base_seed: 42,
            knobs: &k,
        };
        let names: Vec<String> = runs(&p).iter().map(RunSpec::dir_name).collect();
        // Mains first; 2000 ≥ 1500 pairs is dropped; the tiny LSTM has one layer already.
        assert_eq!(
            names,
            [
                "lstm-all-s42",
                "transformer-all-s42",
                "lstm-500-s42",
                "lstm-500-s43",
                "lstm-all-s43",
                "lstm-all-s42-layers-2",
                "transformer-500-s42",
                "transformer-500-s43",
                "transformer-all-s43",
                "transformer-all-s42-layers-1",
                "transformer-all-s42-heads-1",
            ]
        );
    }

    #[test]
    fn the_budget_is_split_or_refused_with_the_budget_that_would_fit() {
        let o = Overheads {
            per_run_minutes: 0.5,
            speed_minutes: 2.0,
            min_train_minutes: 0.25,
        };
        let b = Budget::plan(10, 60.0, o).unwrap();
        assert!((b.train_minutes - 5.3).abs() < 1e-9, "{b:?}");
        assert!((b.total_minutes - 60.0).abs() < 1e-9);
        // 5.3 minutes each is enough for a mini model, not for a base one.
        assert!(b.learn_warning(Preset::Mini).is_none());
        let warning = b.learn_warning(Preset::Base).unwrap();
        // 60 + 10 × (15 - 5.3) = 157 minutes.
        assert!(warning.contains("--budget-hours 2.62"), "{warning}");
        let err = Budget::plan(10, 8.0, o).unwrap_err();
        // 2 + 10 × 0.5 + 10 × 0.25 = 9.5 minutes.
        assert_eq!(err.needed_hours, 0.16);
        let msg = err.to_string();
        assert!(
            msg.contains("10 training runs") && msg.contains("--budget-hours 0.16"),
            "{msg}"
        );
    }
}
