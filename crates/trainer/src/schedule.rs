//! Learning-rate schedules.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// How the learning rate changes with the update count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Linear warm-up to the peak rate, then decay with the inverse square root of the step
    /// (Vaswani et al. 2017, as fairseq's `inverse_sqrt`).
    InverseSqrt,
    /// Reduce on plateau: the constant rate, multiplied by `plateau_factor` whenever the
    /// validation metric has not improved for `plateau_patience` validations (needs
    /// validation data).
    Plateau,
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
