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
