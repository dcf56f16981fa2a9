//! Value parsers the commands share: the library types parse themselves, clap gets their
//! message.

use honyaku_attention::AttentionKind;
use honyaku_core::Preset;
use honyaku_core::recurrent::Cell;
use honyaku_data::synth::SynthTask;
use honyaku_eval::BleuTokenizer;

/// `--tokenize`: a sacreBLEU tokenizer name.
pub fn parse_tokenizer(s: &str) -> Result<BleuTokenizer, String> {
    s.parse()
        .map_err(|e: honyaku_eval::EvalError| e.to_string())
}

/// `--task`: a synthetic corpus.
pub fn parse_task(s: &str) -> Result<SynthTask, String> {
    s.parse()
        .map_err(|e: honyaku_data::synth::SynthError| e.to_string())
}

/// `--attention`: an attention function.
pub fn parse_attention(s: &str) -> Result<AttentionKind, String> {
    s.parse()
}

/// `--cell`: a recurrent cell.
pub fn parse_cell(s: &str) -> Result<Cell, String> {
    s.parse()
}

/// `--preset`: tiny, mini, small or base.
pub fn parse_preset(s: &str) -> Result<Preset, String> {
    s.parse()
}
