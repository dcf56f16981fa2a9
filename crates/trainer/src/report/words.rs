//! The report's language: its header words in English and Japanese.

use clap::ValueEnum;

/// Language of the report's prose and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Japanese, ready to paste into an article.
    Ja,
}

/// Header words in the report's language.
pub(super) struct Words {
    pub(super) title: &'static str,
    pub(super) intro: &'static str,
    pub(super) arch: &'static str,
    pub(super) params: &'static str,
    pub(super) train_time: &'static str,
    pub(super) tok_s: &'static str,
    pub(super) ppl: &'static str,
    pub(super) sent_s: &'static str,
    pub(super) memory: &'static str,
    pub(super) by_length: &'static str,
    pub(super) significance: &'static str,
    pub(super) examples: &'static str,
    pub(super) source: &'static str,
    pub(super) reference: &'static str,
    pub(super) plots: &'static str,
    pub(super) sig_yes: &'static str,
    pub(super) sig_no: &'static str,
    pub(super) budget: &'static str,
    pub(super) backend: &'static str,
    pub(super) preset: &'static str,
    pub(super) test_sentences: &'static str,
}

pub(super) fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            title: "Architecture comparison",
            intro: "Every architecture was trained on the same data with the same tokenizer and the same budget, then scored on the test set with greedy decoding. BLEU and chrF are computed exactly as sacreBLEU computes them.",
            arch: "architecture",
            params: "parameters",
            train_time: "training time",
            tok_s: "train tokens/s",
            ppl: "best valid ppl",
            sent_s: "greedy sent/s",
            memory: "peak memory",
            by_length: "BLEU by source length (words)",
            significance: "Significance (paired bootstrap, 1000 resamples)",
            examples: "Examples",
            source: "source",
            reference: "reference",
            plots: "Plots",
            sig_yes: "significant at p < 0.05",
            sig_no: "not significant",
            budget: "budget",
            backend: "backend",
            preset: "preset",
            test_sentences: "test sentences",
        },
        Lang::Ja => Words {
            title: "アーキテクチャ比較",
            intro: "すべてのアーキテクチャを同じデータ・同じトークナイザ・同じ学習予算で学習し、テストセットを貪欲法で翻訳して評価しました。BLEU と chrF は sacreBLEU と同一の方法で計算しています。",
            arch: "アーキテクチャ",
            params: "パラメータ数",
            train_time: "学習時間",
            tok_s: "学習速度 (トークン/秒)",
            ppl: "最良検証パープレキシティ",
            sent_s: "貪欲法翻訳 (文/秒)",
            memory: "最大メモリ",
            by_length: "原文の長さ (単語数) 別 BLEU",
            significance: "有意差検定 (ペアブートストラップ, 1000 回リサンプリング)",
            examples: "翻訳例",
            source: "原文",
            reference: "参照訳",
            plots: "グラフ",
            sig_yes: "p < 0.05 で有意",
            sig_no: "有意差なし",
            budget: "学習予算",
            backend: "バックエンド",
            preset: "プリセット",
            test_sentences: "テスト文数",
        },
    }
}
