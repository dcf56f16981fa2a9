//! [`registry!`]: the enums and the dispatch written from the list of architectures.

/// Writes, from `Variant = "name": ConfigType` entries (each with its doc), in a module that
/// imports `ArchConfig`, `ConfigVisitor`, serde's `Serialize` and `Deserialize`:
/// - `Arch`, the `--arch` values (`ALL`, `name`);
/// - `ModelConfig`, the configuration saved in `config.json` (tagged by `arch`), with
///   `preset`, `with_vocab`, `arch` and the one dispatch `visit` that hands the typed configuration to a
///   [`ConfigVisitor`](super::ConfigVisitor);
/// - `RawModelConfig`, the same as serde reads it before the check for unknown fields.
macro_rules! registry {
    ($(
        $(#[doc = $doc:literal])*
        $Variant:ident = $name:literal : $Config:ty,
    )*) => {
        /// The architectures `--arch` offers.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize,
        )]
        #[serde(rename_all = "lowercase")]
        pub enum Arch {
            $(
                $(#[doc = $doc])*
                #[value(name = $name)]
                #[serde(rename = $name)]
                $Variant,
            )*
        }

        impl Arch {
            /// Every architecture, in the order reports list them.
            pub const ALL: [Arch; [$($name),*].len()] = [$(Arch::$Variant),*];

            /// The recommended training settings of this architecture at `preset`.
            pub fn recipe(self, preset: honyaku_core::Preset) -> honyaku_core::recipe::Recipe {
                match self {
                    $(Self::$Variant => <$Config as ArchConfig>::recipe(preset),)*
                }
            }

            /// The name used on the command line and in reports.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$Variant => $name,)*
                }
            }
        }

        /// A model configuration: which architecture, with all its dimensions. Saved as part of
        /// `config.json` in the run directory. Reading one refuses fields the architecture does
        /// not have (a misspelt `n_layer` would otherwise be ignored silently).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "arch", rename_all = "lowercase", try_from = "serde_json::Value")]
        pub enum ModelConfig {
            $(
                #[doc = concat!("See [`", stringify!($Config), "`].")]
                #[serde(rename = $name)]
                $Variant($Config),
            )*
        }

        /// [`ModelConfig`] as serde reads it, before the check for unknown fields.
        #[derive(Deserialize)]
        #[serde(tag = "arch", rename_all = "lowercase")]
        enum RawModelConfig {
            $(
                #[serde(rename = $name)]
                $Variant($Config),
            )*
        }

        impl RawModelConfig {
            /// The configuration, for the unknown-field check.
            fn checked(self) -> ModelConfig {
                match self {
                    $(Self::$Variant(c) => ModelConfig::$Variant(c),)*
                }
            }
        }

        impl ModelConfig {
            /// The configuration of `arch` at `preset` for the given vocabularies.
            pub fn preset(
                arch: Arch,
                preset: honyaku_core::Preset,
                src_vocab: usize,
                tgt_vocab: usize,
            ) -> Self {
                match arch {
                    $(Arch::$Variant => Self::$Variant(
                        <$Config as ArchConfig>::preset(preset, src_vocab, tgt_vocab),
                    ),)*
                }
            }

            /// The same configuration built for other vocabulary sizes (those of the run's
            /// tokenizers).
            pub fn with_vocab(self, src_vocab: usize, tgt_vocab: usize) -> Self {
                match self {
                    $(Self::$Variant(c) => {
                        Self::$Variant(ArchConfig::with_vocab(c, src_vocab, tgt_vocab))
                    })*
                }
            }

            /// The architecture.
            pub fn arch(&self) -> Arch {
                match self {
                    $(Self::$Variant(_) => Arch::$Variant,)*
                }
            }

            /// Hands the typed configuration to `visitor`: the one dispatch on the architecture
            /// that everything else calls.
            pub fn visit<V: ConfigVisitor>(&self, visitor: V) -> V::Output {
                match self {
                    $(Self::$Variant(c) => visitor.visit(c),)*
                }
            }
        }
    };
}

pub(crate) use registry;
