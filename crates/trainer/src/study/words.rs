//! The study report's words in English and Japanese.

use super::claims::Verdict;
use crate::report::Lang;

/// Headings and labels of `report.md`.
pub struct Words {
    pub title: &'static str,
    pub setup: &'static str,
    pub table: &'static str,
    pub claims: &'static str,
    pub buckets: &'static str,
    pub speed: &'static str,
    pub data: &'static str,
    pub sweeps: &'static str,
    pub plots: &'static str,
    pub notes: &'static str,
    pub rule: &'static str,
    pub learned: &'static str,
    pub property: &'static str,
}

/// The words of `lang`.
pub fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            title: "LSTM or attention? The rules of thumb, measured",
            setup: "Setup",
            table: "The table, measured",
            claims: "Claims and verdicts",
            buckets: "Scores by source length (95% bootstrap intervals)",
            speed: "Cost against sentence length",
            data: "Data regime (test chrF against training pairs)",
            sweeps: "Tuning sensitivity (test chrF per knob value)",
            plots: "Plots",
            notes: "Not measured",
            rule: "rule",
            learned: "Did each model learn?",
            property: "property",
        },
        Lang::Ja => Words {
            title: "LSTMか注意機構か：経験則を実測する",
            setup: "設定",
            table: "比較表（実測値）",
            claims: "主張と判定",
            buckets: "原文の長さ別スコア（95%ブートストラップ信頼区間）",
            speed: "文長に対する計算コスト",
            data: "データ量（学習対訳数に対するテストchrF）",
            sweeps: "ハイパーパラメータ感度（設定値ごとのテストchrF）",
            plots: "グラフ",
            notes: "測定しなかった項目",
            rule: "判定基準",
            learned: "各モデルは学習できたか",
            property: "項目",
        },
    }
}

/// The label of a table row.
pub fn row_label(id: &str, lang: Lang) -> &'static str {
    let (en, ja) = match id {
        "strength" => (
            "main strength: chrF, shortest → longest sources",
            "主な強み：chrF（短文→長文）",
        ),
        "test" => ("test scores", "テストスコア"),
        "compute_train" => ("compute: training", "計算：学習"),
        "compute_latency" => ("compute: one-sentence latency", "計算：1文の翻訳時間"),
        "little_data" => ("little data", "少量データ"),
        "stability" => ("stability across seeds", "シード間の安定性"),
        "size" => ("size", "サイズ"),
        "uses" => (
            "typical uses (best measured at)",
            "典型的な用途（実測で最良の項目）",
        ),
        _ => ("?", "?"),
    };
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// The claim with identifier `id` in `lang`: Japanese statements are kept here, by id, so that
/// `report.json` keeps one (English) `claim` per entry. `None` when `lang` is English or the
/// id is unknown; the caller then shows the claim as `report.json` has it.
pub fn claim_text(id: &str, lang: Lang) -> Option<String> {
    if lang == Lang::En {
        return None;
    }
    if let Some(knob) = id
        .strip_prefix("knob_")
        .and_then(|k| k.strip_suffix("_matters"))
    {
        return Some(format!("`{knob}` を変えると結果が大きく変わる"));
    }
    let ja = match id {
        "lstm_stable_little_data" => {
            "LSTMは少量データでも安定している（最小の学習データでシード間のばらつきが小さい）"
        }
        "lstm_stable" => "LSTMの学習は安定している（全学習データでシード間のばらつきが小さい）",
        "attention_more_parameters" => "注意機構のモデルはパラメータ数が多い",
        "attention_long_latency" => {
            "注意機構のモデルは長い系列で計算コストが増える（1文の翻訳時間と文長）"
        }
        "attention_long_training" => {
            "注意機構のモデルは長い系列で計算コストが増える（学習1ステップの時間と文長）"
        }
        "attention_parallel_fast" => "LSTMの学習は逐次的で、注意機構は並列性が高く速い",
        "attention_long_range" => {
            "注意機構は長距離の依存関係を直接参照でき、LSTMは短文から中程度の長さの文に向く"
        }
        "hybrid_helps" => "ハイブリッド（小さな注意機構付きのLSTM）は素のLSTMより良い",
        _ => return None,
    };
    Some(ja.to_string())
}

/// A verdict in words.
pub fn verdict(v: Verdict, lang: Lang) -> &'static str {
    match (v, lang) {
        (Verdict::Supported, Lang::En) => "supported",
        (Verdict::Contradicted, Lang::En) => "contradicted",
        (Verdict::Inconclusive, Lang::En) => "inconclusive",
        (Verdict::Supported, Lang::Ja) => "支持",
        (Verdict::Contradicted, Lang::Ja) => "反証",
        (Verdict::Inconclusive, Lang::Ja) => "判定不能",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_claim_of_a_study_has_a_japanese_statement() {
        for id in [
            "lstm_stable_little_data",
            "lstm_stable",
            "attention_more_parameters",
            "attention_long_latency",
            "attention_long_training",
            "attention_parallel_fast",
            "attention_long_range",
            "hybrid_helps",
            "knob_cell_matters",
        ] {
            let ja = claim_text(id, Lang::Ja).unwrap_or_else(|| panic!("{id} has no Japanese"));
            assert!(!ja.is_ascii(), "{id}: {ja}");
            assert_eq!(claim_text(id, Lang::En), None);
        }
        assert!(
            claim_text("knob_heads_matters", Lang::Ja)
                .unwrap()
                .contains("`heads`")
        );
        assert_eq!(claim_text("no_such_claim", Lang::Ja), None);
    }
}
