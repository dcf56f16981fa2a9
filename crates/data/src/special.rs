//! Special token ids and strings, defined once in `honyaku-core` and re-exported here for the
//! tokenizers and the batcher.

pub use honyaku_core::special::*;
