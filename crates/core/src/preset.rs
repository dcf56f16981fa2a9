//! Named model sizes shared by every architecture.

use serde::{Deserialize, Serialize};

/// A named model size. Each architecture maps it to concrete dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Tiny dimensions for tests and smoke runs (seconds on a CPU).
    Tiny,
    /// A few minutes on a CPU: big enough to learn a synthetic corpus well (the demo's size).
    Mini,
    /// The benchmark shape: small enough for a CPU, big enough for real corpora.
    #[default]
    Small,
    /// The published base configurations.
    Base,
}

impl Preset {
    /// Every preset, smallest first.
    pub const ALL: [Preset; 4] = [Preset::Tiny, Preset::Mini, Preset::Small, Preset::Base];
}

impl std::str::FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tiny" => Ok(Self::Tiny),
            "mini" => Ok(Self::Mini),
            "small" => Ok(Self::Small),
            "base" => Ok(Self::Base),
            other => Err(format!(
                "unknown preset '{other}' (expected tiny, mini, small or base)"
            )),
        }
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tiny => "tiny",
            Self::Mini => "mini",
            Self::Small => "small",
            Self::Base => "base",
        })
    }
}
