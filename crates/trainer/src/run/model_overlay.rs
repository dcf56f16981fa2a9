//! [`ModelOverlay`]: the model flags of `honyaku train` and `honyaku bench` (and of
//! `compare --set ARCH:FLAG=VALUE`), each replacing one setting of the architecture's
//! configuration. A flag of a setting the architecture does not have is refused, never ignored.

use clap::Args;
use honyaku_attention::AttentionKind;
use honyaku_core::recurrent::Cell;

use crate::arch::ModelConfig;
use crate::values::{parse_attention, parse_cell};

/// The model flags; each given one replaces its setting.
#[derive(Debug, Clone, Default, Args)]
pub struct ModelOverlay {
    /// Attention function of `--arch attention`: bahdanau, luong-dot or luong-general.
    #[arg(long, value_parser = parse_attention)]
    pub attention: Option<AttentionKind>,
    /// Recurrent cell of `--arch lstm` and `--arch attention`: lstm (default) or gru.
    #[arg(long, value_parser = parse_cell)]
    pub cell: Option<Cell>,
}

impl ModelOverlay {
    /// `model` with every given flag's setting replaced; an error names the flag and the
    /// architecture that has no such setting.
    pub fn apply(&self, model: ModelConfig) -> Result<ModelConfig, String> {
        let mut model = model;
        if let Some(kind) = self.attention {
            model = model.with_attention_kind(kind)?;
        }
        if let Some(cell) = self.cell {
            model = model.with_cell(cell)?;
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use honyaku_core::Preset;

    use super::*;
    use crate::arch::Arch;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        model: ModelOverlay,
    }

    fn applied(arch: Arch, args: &[&str]) -> Result<ModelConfig, String> {
        let flags = Flags::try_parse_from(std::iter::once("train").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        flags
            .model
            .apply(ModelConfig::preset(arch, Preset::Tiny, 10, 10))
    }

    #[test]
    fn no_flags_change_nothing_and_each_flag_sets_its_field() {
        for arch in Arch::ALL {
            let preset = ModelConfig::preset(arch, Preset::Tiny, 10, 10);
            assert_eq!(applied(arch, &[]), Ok(preset.clone()), "{arch}");
            assert_eq!(
                preset.cell(),
                (arch != Arch::Transformer).then_some(Cell::Lstm)
            );
        }
        for arch in [Arch::Lstm, Arch::Attention] {
            let gru = applied(arch, &["--cell", "gru"]).unwrap();
            assert_eq!(gru.cell(), Some(Cell::Gru), "{arch}");
            assert_eq!(serde_json::to_value(&gru).unwrap()["cell"], "gru");
        }
        let both = applied(
            Arch::Attention,
            &["--cell", "gru", "--attention", "luong-dot"],
        );
        let ModelConfig::Attention(config) = both.unwrap() else {
            panic!("an attention configuration");
        };
        assert_eq!(
            (config.cell, config.attention),
            (Cell::Gru, AttentionKind::LuongDot)
        );
    }

    #[test]
    fn a_flag_the_architecture_has_no_setting_for_is_refused_by_name() {
        let err = applied(Arch::Transformer, &["--cell", "gru"]).unwrap_err();
        assert_eq!(
            err,
            "--cell applies to --arch lstm and --arch attention, not to transformer"
        );
        let err = applied(Arch::Lstm, &["--attention", "bahdanau"]).unwrap_err();
        assert!(
            err.contains("--attention applies to --arch attention"),
            "{err}"
        );
        let err = applied(Arch::Lstm, &["--cell", "rnn"]).unwrap_err();
        assert!(
            err.contains("unknown cell 'rnn' (expected lstm or gru)"),
            "{err}"
        );
    }
}
