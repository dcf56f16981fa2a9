//! Special token ids and strings: the one place they are defined. Every tokenizer reserves
//! these first four ids, and every model, batcher and search uses these constants.

/// Padding id (ignored by the loss, masked out by attention).
pub const PAD_ID: u32 = 0;
/// Beginning of sentence: the first decoder input.
pub const BOS_ID: u32 = 1;
/// End of sentence: appended to every source and target.
pub const EOS_ID: u32 = 2;
/// Unknown piece.
pub const UNK_ID: u32 = 3;

/// The special tokens in id order.
pub const SPECIAL_TOKENS: [&str; 4] = ["<pad>", "<s>", "</s>", "<unk>"];
