//! The divergence guard: a non-finite loss skips its update; three in a row reload the last
//! checkpoint with the learning rate halved; three reloads give up.

/// What the loop does after a step's loss is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardDecision {
    /// Finite loss: update as usual.
    Update,
    /// Non-finite loss: skip this update.
    Skip,
    /// Too many bad steps in a row: reload the last checkpoint with a fresh optimizer and the
    /// learning rate halved.
    Reload,
    /// Too many reloads: give up.
    Abort,
}

/// Skips non-finite losses, reloads after [`DivergenceGuard::MAX_BAD`] in a row, gives up
/// after [`DivergenceGuard::MAX_RELOADS`] reloads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DivergenceGuard {
    /// Consecutive non-finite losses.
    pub bad_in_a_row: usize,
    /// Non-finite losses skipped in all.
    pub skipped: usize,
    /// Reloads made.
    pub reloads: usize,
}

impl DivergenceGuard {
    /// Bad steps in a row that trigger a reload.
    pub const MAX_BAD: usize = 3;
    /// Reloads after which training stops.
    pub const MAX_RELOADS: usize = 3;

    /// A guard that has already reloaded `reloads` times (from `train_state.json`).
    pub fn with_reloads(reloads: usize) -> Self {
        Self {
            reloads,
            ..Self::default()
        }
    }

    /// Records a step's loss and says what to do.
    pub fn observe(&mut self, loss: f64) -> GuardDecision {
        if loss.is_finite() {
            self.bad_in_a_row = 0;
            return GuardDecision::Update;
        }
        self.skipped += 1;
        self.bad_in_a_row += 1;
        if self.bad_in_a_row < Self::MAX_BAD {
            return GuardDecision::Skip;
        }
        self.bad_in_a_row = 0;
        if self.reloads >= Self::MAX_RELOADS {
            return GuardDecision::Abort;
        }
        self.reloads += 1;
        GuardDecision::Reload
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_losses_update() {
        let mut g = DivergenceGuard::default();
        assert_eq!(g.observe(2.0), GuardDecision::Update);
        assert_eq!(g.skipped, 0);
    }

    #[test]
    fn a_good_step_resets_the_run_of_bad_ones() {
        let mut g = DivergenceGuard::default();
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.observe(f64::INFINITY), GuardDecision::Skip);
        assert_eq!(g.observe(1.0), GuardDecision::Update);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.skipped, 4);
        assert_eq!(g.reloads, 0);
    }

    #[test]
    fn three_bad_steps_reload_and_three_reloads_abort() {
        let mut g = DivergenceGuard::default();
        for reload in 1..=DivergenceGuard::MAX_RELOADS {
            assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
            assert_eq!(g.observe(f64::NEG_INFINITY), GuardDecision::Skip);
            assert_eq!(g.observe(f64::NAN), GuardDecision::Reload);
            assert_eq!(g.reloads, reload);
        }
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Abort);
    }

    #[test]
    fn the_reload_count_survives_a_resume() {
        let mut g = DivergenceGuard::with_reloads(3);
        g.observe(f64::NAN);
        g.observe(f64::NAN);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Abort);
    }
}
