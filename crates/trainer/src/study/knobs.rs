//! Tuning sensitivity: the knobs a study turns, as data. Each knob changes either fields of an
//! architecture's model configuration (written to a `--config` file) or a `honyaku train`
//! flag; both reach the child run through compare's per-architecture settings
//! ([`ArchSetting`], what `compare --set ARCH:FLAG=VALUE` gives).

use std::path::Path;

use anyhow::{Context, Result};
use honyaku_core::Preset;
use serde_json::Value;

use crate::arch::{Arch, ModelConfig};
use crate::compare::ArchSetting;
use crate::run::write_atomic;

/// How a knob value changes a run.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Sets these model fields to the value.
    Set(&'static [&'static str]),
    /// Multiplies these model fields by the value (rounded, at least 1).
    Scale(&'static [&'static str]),
    /// Passes the value to this `honyaku train` flag; the knob's first value is the default.
    Flag(&'static str),
}

/// One knob of the sensitivity sweep.
#[derive(Debug, Clone, Copy)]
pub struct Knob {
    /// Name in reports.
    pub name: &'static str,
    /// What the knob changes, per architecture it applies to.
    pub changes: &'static [(Arch, Change)],
    /// Values of a full study.
    pub values: &'static [&'static str],
    /// Values of a `--quick` study.
    pub quick: &'static [&'static str],
}

/// The knobs, in report order. `cell` (the number of gates: LSTM or GRU) is swept only when
/// `honyaku train` has a `--cell` flag (see [`available`]).
pub const KNOBS: &[Knob] = &[
    Knob {
        name: "cell",
        changes: &[
            (Arch::Lstm, Change::Flag("cell")),
            (Arch::Attention, Change::Flag("cell")),
        ],
        values: &["lstm", "gru"],
        quick: &["lstm", "gru"],
    },
    Knob {
        name: "layers",
        changes: &[
            (Arch::Lstm, Change::Set(&["n_layers"])),
            (
                Arch::Attention,
                Change::Set(&["n_encoder_layers", "n_decoder_layers"]),
            ),
            (
                Arch::Transformer,
                Change::Set(&["encoder_layers", "decoder_layers"]),
            ),
        ],
        values: &["1", "2", "4"],
        quick: &["1", "2"],
    },
    Knob {
        name: "heads",
        changes: &[(Arch::Transformer, Change::Set(&["n_heads"]))],
        values: &["1", "2", "4", "8"],
        quick: &["1", "4"],
    },
    Knob {
        name: "hidden",
        changes: &[
            (Arch::Lstm, Change::Scale(&["d_hidden"])),
            (
                Arch::Attention,
                Change::Scale(&["d_encoder", "d_decoder", "d_attention"]),
            ),
            (Arch::Transformer, Change::Scale(&["d_model", "d_ff"])),
        ],
        values: &["0.5", "1", "2"],
        quick: &["0.5", "1"],
    },
];

/// The knobs this build can turn: a flag knob needs `honyaku train` to have its flag
/// (`has_train_flag` answers that).
pub fn available(has_train_flag: &dyn Fn(&str) -> bool) -> Vec<Knob> {
    KNOBS
        .iter()
        .filter(|k| {
            k.changes.iter().all(|(_, c)| match c {
                Change::Flag(flag) => has_train_flag(flag),
                _ => true,
            })
        })
        .copied()
        .collect()
}

/// `--knobs` values: a knob name of [`KNOBS`].
pub fn parse_knob(s: &str) -> Result<String, String> {
    let s = s.trim();
    if KNOBS.iter().any(|k| k.name == s) {
        Ok(s.to_string())
    } else {
        let names: Vec<&str> = KNOBS.iter().map(|k| k.name).collect();
        Err(format!("unknown knob '{s}' (knobs: {})", names.join(", ")))
    }
}

/// One value of one knob for one architecture, as the child run gets it.
#[derive(Debug, Clone, PartialEq)]
pub enum KnobSetting {
    /// The value is the architecture's default: the main run measures it.
    Default,
    /// This model configuration (the preset's, changed).
    Model(Box<ModelConfig>),
    /// This `honyaku train` flag and value.
    Flag(&'static str, String),
    /// The value makes no valid model (e.g. a width the heads do not divide): skipped.
    Invalid(String),
}

impl Knob {
    /// What `value` means for `arch` at `preset`; `None` when the knob does not apply.
    pub fn setting(&self, arch: Arch, preset: Preset, value: &str) -> Option<KnobSetting> {
        let change = self.changes.iter().find(|(a, _)| *a == arch)?.1;
        Some(match change {
            Change::Flag(_) if value == self.values[0] => KnobSetting::Default,
            Change::Flag(flag) => KnobSetting::Flag(flag, value.to_string()),
            Change::Set(fields) | Change::Scale(fields) => model_setting(
                arch,
                preset,
                fields,
                value,
                matches!(change, Change::Scale(_)),
            ),
        })
    }
}

fn model_setting(
    arch: Arch,
    preset: Preset,
    fields: &[&str],
    value: &str,
    scale: bool,
) -> KnobSetting {
    let base = ModelConfig::preset(arch, preset, 1, 1);
    let Ok(mut json) = serde_json::to_value(&base) else {
        return KnobSetting::Invalid("the model configuration does not serialise".into());
    };
    let Ok(number) = value.parse::<f64>() else {
        return KnobSetting::Invalid(format!("'{value}' is not a number"));
    };
    for field in fields {
        let Some(old) = json.get(*field).and_then(Value::as_f64) else {
            return KnobSetting::Invalid(format!("{arch} has no numeric field {field}"));
        };
        let new = if scale { old * number } else { number };
        json[*field] = Value::from(new.round().max(1.0) as u64);
    }
    match serde_json::from_value::<ModelConfig>(json) {
        Ok(model) if model == base => KnobSetting::Default,
        Ok(model) => match model.validate() {
            Ok(()) => KnobSetting::Model(Box::new(model)),
            Err(e) => KnobSetting::Invalid(e),
        },
        Err(e) => KnobSetting::Invalid(e.to_string()),
    }
}

impl KnobSetting {
    /// The per-architecture settings of the child run; a model configuration is written to
    /// `config_file` first (a `--config` file with only a `model` section).
    pub fn arch_settings(&self, arch: Arch, config_file: &Path) -> Result<Vec<ArchSetting>> {
        Ok(match self {
            Self::Default | Self::Invalid(_) => Vec::new(),
            Self::Flag(flag, value) => vec![ArchSetting {
                arch,
                flag: flag.to_string(),
                value: Some(value.clone()),
            }],
            Self::Model(model) => {
                let text = serde_json::to_string_pretty(&serde_json::json!({ "model": model }))?;
                if let Some(dir) = config_file.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                write_atomic(config_file, text.as_bytes())?;
                vec![ArchSetting {
                    arch,
                    flag: "config".into(),
                    value: Some(config_file.to_string_lossy().into_owned()),
                }]
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knob(name: &str) -> Knob {
        *KNOBS.iter().find(|k| k.name == name).unwrap()
    }

    #[test]
    fn the_cell_knob_needs_the_train_flag() {
        let without: Vec<&str> = available(&|_| false).iter().map(|k| k.name).collect();
        assert_eq!(without, ["layers", "heads", "hidden"]);
        let with: Vec<&str> = available(&|f| f == "cell").iter().map(|k| k.name).collect();
        assert_eq!(with, ["cell", "layers", "heads", "hidden"]);
        let cell = knob("cell");
        assert_eq!(
            cell.setting(Arch::Lstm, Preset::Tiny, "lstm"),
            Some(KnobSetting::Default)
        );
        assert_eq!(
            cell.setting(Arch::Attention, Preset::Tiny, "gru"),
            Some(KnobSetting::Flag("cell", "gru".into()))
        );
        assert_eq!(cell.setting(Arch::Transformer, Preset::Tiny, "gru"), None);
    }

    #[test]
    fn model_knobs_change_the_named_fields_or_say_why_not() {
        let layers = knob("layers");
        let Some(KnobSetting::Model(m)) = layers.setting(Arch::Lstm, Preset::Tiny, "2") else {
            panic!("two layers is a model change");
        };
        assert_eq!(serde_json::to_value(&*m).unwrap()["n_layers"], 2);
        // The tiny LSTM has one layer already.
        assert_eq!(
            layers.setting(Arch::Lstm, Preset::Tiny, "1"),
            Some(KnobSetting::Default)
        );
        let hidden = knob("hidden");
        let Some(KnobSetting::Model(m)) = hidden.setting(Arch::Transformer, Preset::Tiny, "0.5")
        else {
            panic!("half width is a model change");
        };
        let base = serde_json::to_value(ModelConfig::preset(Arch::Transformer, Preset::Tiny, 1, 1))
            .unwrap();
        let half = serde_json::to_value(&*m).unwrap();
        assert_eq!(
            half["d_model"].as_u64().unwrap() * 2,
            base["d_model"].as_u64().unwrap()
        );
        // Heads that do not divide the width are refused by the model's own check.
        let heads = knob("heads");
        let width = base["d_model"].as_u64().unwrap();
        let odd = (width + 1).to_string();
        assert!(matches!(
            heads.setting(Arch::Transformer, Preset::Tiny, &odd),
            Some(KnobSetting::Invalid(_))
        ));
        assert_eq!(heads.setting(Arch::Lstm, Preset::Tiny, "2"), None);
    }

    #[test]
    fn a_model_setting_reaches_the_child_as_a_config_file() {
        let tmp = honyaku_conformance::tempdir().unwrap();
        let file = tmp.path().join("knobs/layers-2-lstm.json");
        let setting = knob("layers")
            .setting(Arch::Lstm, Preset::Tiny, "2")
            .unwrap();
        let args = setting.arch_settings(Arch::Lstm, &file).unwrap();
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].train_args()[0], "--config");
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(written["model"]["n_layers"], 2);
        assert!(
            KnobSetting::Default
                .arch_settings(Arch::Lstm, &file)
                .unwrap()
                .is_empty()
        );
    }
}
