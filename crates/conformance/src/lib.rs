//! The conformance suite of the [`honyaku_core::Seq2Seq`] contract, and the helpers tests
//! share: the one builder of test batches ([`batches`]), synthetic tasks ([`tasks`]),
//! training and scoring helpers ([`training`]) and a temporary directory ([`tempdir`]).
//!
//! A dev-dependency only: nothing here is compiled into a release build. An architecture runs
//! the whole suite with one call in its tests:
//!
//! ```text
//! mod conformance {
//!     fn spec() -> honyaku_conformance::Spec<MyModel> { /* tiny model, recipes */ }
//!     honyaku_conformance::conformance_tests!(spec);
//! }
//! ```
//!
//! which defines one test per check of [`checks`]: shapes, padding never changing real
//! outputs, step-by-step decoding equal to the teacher-forced `forward`, search in row shards
//! on several threads equal to search of the whole batch, `select` reordering
//! and repeating rows, gradients reaching every parameter, the initial loss near `ln V`,
//! overfitting one batch and learning a synthetic task. `conformance_tests!(spec,
//! without_learning)` leaves out the last one, for variants of an architecture whose main
//! configuration already learns.

pub mod batches;
pub mod checks;
pub mod grads;
pub mod spec;
pub mod tasks;
pub mod tempdir;
pub mod training;

pub use batches::{FIRST_SYMBOL, Padding, batch, padded_batch, source};
pub use spec::{Overfit, Spec};
pub use tasks::{Sampler, Task};
pub use tempdir::{TempDir, tempdir};
pub use training::{
    Learning, Schedule, batch_loss, exact_match, fit, max_abs_diff, stepwise, stepwise_logits,
};

/// Defines one `#[test]` per conformance check for the [`Spec`] returned by the function
/// `$spec` (see the crate documentation).
#[macro_export]
macro_rules! conformance_tests {
    ($spec:path) => {
        $crate::conformance_tests!($spec, without_learning);

        #[test]
        fn conformance_learns_a_synthetic_task() {
            $crate::checks::learns_a_synthetic_task(&$spec());
        }
    };
    ($spec:path, without_learning) => {
        #[test]
        fn conformance_shapes() {
            $crate::checks::shapes(&$spec());
        }

        #[test]
        fn conformance_padding_never_changes_real_outputs() {
            $crate::checks::padding_never_changes_real_outputs(&$spec());
        }

        #[test]
        fn conformance_stepwise_decoding_equals_forward() {
            $crate::checks::stepwise_decoding_equals_forward(&$spec());
        }

        #[test]
        fn conformance_row_shards_search_like_the_whole_batch() {
            $crate::checks::row_shards_search_like_the_whole_batch(&$spec());
        }

        #[test]
        fn conformance_select_reorders_and_repeats_rows() {
            $crate::checks::select_reorders_and_repeats_rows(&$spec());
        }

        #[test]
        fn conformance_gradients_reach_every_parameter() {
            $crate::checks::gradients_reach_every_parameter(&$spec());
        }

        #[test]
        fn conformance_initial_loss_is_near_ln_vocab() {
            $crate::checks::initial_loss_is_near_ln_vocab(&$spec());
        }

        #[test]
        fn conformance_overfits_one_batch() {
            $crate::checks::overfits_one_batch(&$spec());
        }
    };
}
