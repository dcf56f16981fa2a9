//! Learning-rate schedules.

use serde::{Deserialize, Serialize};

pub use crate::run::config::ScheduleKind;
use crate::run::config::TrainConfig;

/// A learning-rate schedule: the peak rate and its shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Shape.
    pub kind: ScheduleKind,
    /// Peak (or constant) learning rate.
    pub lr: f64,
    /// Warm-up updates of `inverse-sqrt`.
    pub warmup: usize,
}

impl Schedule {
    /// The schedule `config` describes.
    pub fn of(config: &TrainConfig) -> Self {
        Self {
            kind: config.schedule,
            lr: config.lr,
            warmup: config.warmup,
        }
    }

    /// The rate for update number `step` (1-based).
    pub fn lr(&self, step: usize) -> f64 {
        let step = step.max(1) as f64;
        match self.kind {
            // Plateau reductions are events of validation; the loop keeps them as a factor.
            ScheduleKind::Constant | ScheduleKind::Plateau => self.lr,
            ScheduleKind::InverseSqrt => {
                let warmup = self.warmup.max(1) as f64;
                self.lr * (step / warmup).min((warmup / step).sqrt())
            }
        }
    }
}

/// Reduce-on-plateau bookkeeping (PyTorch's `ReduceLROnPlateau` in `patience` terms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plateau {
    /// Factor applied to the learning rate at each reduction.
    pub factor: f64,
    /// Validations without improvement before a reduction.
    pub patience: usize,
}

impl Plateau {
    /// Records one validation; `bad` counts validations without improvement since the best
    /// one or the last reduction. Returns the factor to apply now, if it is time to reduce.
    pub fn observe(&self, improved: bool, bad: &mut usize) -> Option<f64> {
        if improved {
            *bad = 0;
            return None;
        }
        *bad += 1;
        if *bad < self.patience {
            return None;
        }
        *bad = 0;
        Some(self.factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plateau_reduces_after_patience_bad_validations_and_resets_on_improvement() {
        let plateau = Plateau {
            factor: 0.5,
            patience: 2,
        };
        let mut bad = 0;
        let mut scale = 1.0;
        let mut trace = Vec::new();
        for improved in [true, false, false, false, false, true, false, false] {
            if let Some(f) = plateau.observe(improved, &mut bad) {
                scale *= f;
            }
            trace.push(scale);
        }
        assert_eq!(trace, [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]);
    }

    #[test]
    fn plateau_keeps_the_configured_rate_between_reductions() {
        let s = Schedule {
            kind: ScheduleKind::Plateau,
            lr: 3e-4,
            warmup: 10,
        };
        assert_eq!(s.lr(1), 3e-4);
        assert_eq!(s.lr(1000), 3e-4);
    }

    #[test]
    fn inverse_sqrt_warms_up_linearly_then_decays() {
        let s = Schedule {
            kind: ScheduleKind::InverseSqrt,
            lr: 1e-3,
            warmup: 100,
        };
        assert!((s.lr(50) - 5e-4).abs() < 1e-12);
        assert!((s.lr(100) - 1e-3).abs() < 1e-12);
        assert!((s.lr(400) - 5e-4).abs() < 1e-12);
        assert!(s.lr(1) < s.lr(2));
    }

    #[test]
    fn constant_is_constant() {
        let s = Schedule {
            kind: ScheduleKind::Constant,
            lr: 0.5,
            warmup: 10,
        };
        assert_eq!(s.lr(1), s.lr(10_000));
    }
}
