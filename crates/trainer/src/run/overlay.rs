//! Settings declared once: [`settings!`] writes a configuration struct (with its defaults), the
//! command-line overlay of `Option`s (clap flags with their help) and the one merge of the
//! overlay onto the configuration, from a single list.

/// A command-line value that may be absent: an `Option` flag, or a `bool` switch (given when
/// set).
pub trait Given {
    /// The value a given flag carries.
    type Value;
    /// The value, when the flag was given.
    fn given(&self) -> Option<Self::Value>;
}

impl<T: Clone> Given for Option<T> {
    type Value = T;

    fn given(&self) -> Option<T> {
        self.clone()
    }
}

impl Given for bool {
    type Value = bool;

    fn given(&self) -> Option<bool> {
        self.then_some(true)
    }
}

/// Declares a configuration struct and its command-line overlay from one list of settings:
///
/// ```text
/// settings! {
///     #[derive(..)] pub struct Config;        // attributes of the configuration
///     #[derive(clap::Args, ..)] pub struct Overlay;   // attributes of the overlay
///     /// Doc of the field (and of `config.json`).
///     field: Type = default,
///         /// Help of the flag.
///         #[arg(long, ..)] flag: Option<T> => |config, value| config.field = value;
/// }
/// ```
///
/// A setting has zero or more flags; each flag's merge runs when the flag was given (see
/// [`Given`]), in the order the settings are listed.
macro_rules! settings {
    (
        $(#[$cattr:meta])*
        pub struct $Config:ident;
        $(#[$oattr:meta])*
        pub struct $Overlay:ident;
        $(
            $(#[doc = $doc:literal])*
            $field:ident : $ty:ty = $default:expr
            $(,
                $(#[$fattr:meta])*
                $flag:ident : $fty:ty => |$c:ident, $v:ident| $merge:expr
            )*
            ;
        )*
    ) => {
        $(#[$cattr])*
        pub struct $Config {
            $(
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        impl Default for $Config {
            fn default() -> Self {
                Self {
                    $($field: $default,)*
                }
            }
        }

        $(#[$oattr])*
        pub struct $Overlay {
            $($(
                $(#[$fattr])*
                pub $flag: $fty,
            )*)*
        }

        impl $Overlay {
            /// Sets every setting given on the command line in `config`.
            pub fn merge(&self, config: &mut $Config) {
                $($(
                    if let Some($v) = $crate::run::overlay::Given::given(&self.$flag) {
                        let $c = &mut *config;
                        $merge;
                    }
                )*)*
            }
        }
    };
}

pub(crate) use settings;

#[cfg(test)]
mod tests {
    use super::Given;

    #[test]
    fn an_absent_option_and_an_unset_switch_are_not_given() {
        assert_eq!(None::<usize>.given(), None);
        assert_eq!(Some(3usize).given(), Some(3));
        assert_eq!(false.given(), None);
        assert_eq!(true.given(), Some(true));
    }
}
