//! [`Cell`]: which recurrent cell the recurrent architectures stack.

use serde::{Deserialize, Deserializer, Serialize};

/// The recurrent cell of the LSTM and attention architectures.
///
/// Written by name (`"lstm"`, `"gru"`). Read back, an absent or `null` value is the LSTM:
/// model configurations written before the GRU existed have no `cell` field and are LSTMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// Long short-term memory (Hochreiter & Schmidhuber 1997): four gates, a hidden and a
    /// cell state.
    #[default]
    Lstm,
    /// Gated recurrent unit (Cho et al. 2014): three gates, a hidden state only.
    Gru,
}

impl Cell {
    /// Every cell.
    pub const ALL: [Cell; 2] = [Cell::Lstm, Cell::Gru];

    /// The name on the command line and in `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lstm => "lstm",
            Self::Gru => "gru",
        }
    }

    /// Gates per hidden unit: the width of the input and hidden projections in hidden sizes.
    pub fn gates(self) -> usize {
        match self {
            Self::Lstm => 4,
            Self::Gru => 3,
        }
    }

    /// State tensors per layer: `h` and `c` for the LSTM, `h` for the GRU.
    pub fn states(self) -> usize {
        match self {
            Self::Lstm => 2,
            Self::Gru => 1,
        }
    }
}

impl<'de> Deserialize<'de> for Cell {
    /// A name, or nothing: serde hands a missing field to [`Option`]'s deserializer as `None`,
    /// which is how configurations without the field read as the LSTM.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(Self::Lstm),
            Some(name) => name.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl std::str::FromStr for Cell {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s.trim())
            .ok_or_else(|| format!("unknown cell '{s}' (expected lstm or gru)"))
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        size: usize,
        cell: Cell,
    }

    #[test]
    fn names_round_trip_and_a_missing_field_is_the_lstm() {
        for cell in Cell::ALL {
            assert_eq!(cell.name().parse::<Cell>(), Ok(cell));
            let json = serde_json::to_string(&Holder { size: 1, cell }).unwrap();
            assert_eq!(json, format!(r#"{{"size":1,"cell":"{cell}"}}"#));
            assert_eq!(
                serde_json::from_str::<Holder>(&json).unwrap(),
                Holder { size: 1, cell }
            );
        }
        for old in [r#"{"size":2}"#, r#"{"size":2,"cell":null}"#] {
            let read: Holder = serde_json::from_str(old).unwrap();
            assert_eq!(read.cell, Cell::Lstm, "{old}");
        }
    }

    #[test]
    fn an_unknown_cell_is_refused_by_name() {
        let err = "rnn".parse::<Cell>().unwrap_err();
        assert_eq!(err, "unknown cell 'rnn' (expected lstm or gru)");
        let err = serde_json::from_str::<Holder>(r#"{"size":2,"cell":"rnn"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown cell 'rnn'"), "{err}");
        let err = serde_json::from_str::<Holder>(r#"{"size":2,"cell":3}"#).unwrap_err();
        assert!(err.to_string().contains("expected a string"), "{err}");
    }
}
