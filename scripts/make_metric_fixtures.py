#!/usr/bin/env python3
"""Write the sacreBLEU reference values that `crates/eval` is tested against.

Usage (from the repository root):

    pip install sacrebleu==2.6.0
    python3 scripts/make_metric_fixtures.py

Writes `crates/eval/tests/fixtures/*.json`. Every sentence below was written for
these fixtures; no corpus text is used. The Rust test
`crates/eval/tests/sacrebleu_fixtures.rs` loads every file and compares.
"""

import json
import os
import sys

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_char import TokenizerChar
from sacrebleu.tokenizers.tokenizer_intl import TokenizerV14International
from sacrebleu.tokenizers.tokenizer_none import NoneTokenizer

OUT_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "crates", "eval", "tests", "fixtures"
)

TOKENIZERS = {
    "13a": Tokenizer13a(),
    "intl": TokenizerV14International(),
    "char": TokenizerChar(),
    "none": NoneTokenizer(),
}

# Inputs for the raw tokenizer fixture: each exercises one rule of 13a or intl.
TOKENIZER_INPUTS = [
    "Hello, world! It's 3.14 and 1,000 dollars.",
    "A 2-3 split; e-mail, x-ray and 10-20.",
    "&quot;Quoted&quot; &amp; &lt;tag&gt; &apos;kept&apos;",
    "<skipped> text after a skip marker <skipped>",
    "hyphen-\nated line\nbreak",
    "In the year 1999.",
    "«Bonjour» — dit-il… „Hallo“ “quotes” ‘single’",
    "日本語の文章です。東京、大阪。「引用」",
    "$100 + 5% = €105 ©2024 ™ ½ ² ³ ° ±",
    "a..b ,, .5 5. 5.5 ,a a, (x) [y] {z}",
    "tabs\tand\u00a0nbsp\u3000ideographic  space",
    "sep\x1cchars\x1f here",
    "Ünïcödé Straße ÄÖÜ größer.",
    "emoji 😀 test 👍🏽!",
    "",
    "   leading and trailing   ",
    "٣.١٤ and ١٢٣, digits.",
    "x'y `z` ~a^b_c|d\\e @home #tag",
    "Mr. Smith's U.S.A. trip cost 1.5m.",
    "end with number 42,",
]

# Each set: hypotheses, reference streams (one list per reference), and the
# tokenizers worth checking on it.
SETS = {
    "english": {
        "hyps": [
            "The cat sat on the mat.",
            "It was a bright cold day in April, and the clocks were striking thirteen.",
            "She paid 3.50 dollars for 2 coffees at 7:30.",
            "We don't know what happened next!",
            "The e-mail arrived late; nobody read it.",
        ],
        "refs": [[
            "The cat is sitting on the mat.",
            "It was a bright, cold day in April and the clocks struck thirteen.",
            "She paid $3.50 for two coffees at 7:30.",
            "We do not know what happened next!",
            "The email arrived late, and nobody read it.",
        ]],
        "tokenizers": ["13a", "intl", "char", "none"],
    },
    "german": {
        "hyps": [
            "Die Straße ist nass, weil es geregnet hat.",
            "Ich möchte ein großes Bier und zwei Brötchen.",
            "„Das ist schön“, sagte der Bürgermeister.",
            "Über 1.000 Menschen kamen zur Eröffnung.",
        ],
        "refs": [[
            "Die Straße ist nass, da es geregnet hat.",
            "Ich hätte gern ein großes Bier und zwei Brötchen.",
            "„Das ist wunderschön“, sagte die Bürgermeisterin.",
            "Mehr als 1.000 Menschen kamen zur Eröffnung.",
        ]],
        "tokenizers": ["13a", "intl", "char", "none"],
    },
    "japanese": {
        "hyps": [
            "私は昨日東京へ行きました。",
            "この本はとても面白いです、ぜひ読んでください。",
            "「こんにちは」と彼女は言った。",
            "駅まで歩いて十分かかります。",
        ],
        "refs": [[
            "昨日、私は東京に行きました。",
            "この本は非常に面白いので、ぜひ読んでください。",
            "「こんにちは」と彼女が言いました。",
            "駅まで徒歩で十分です。",
        ]],
        "tokenizers": ["char", "intl", "13a"],
    },
    "empty_lines": {
        "hyps": [
            "",
            "a short line",
            "",
            "another line with words",
        ],
        "refs": [[
            "this reference has no hypothesis",
            "a short line indeed",
            "",
            "",
        ]],
        "tokenizers": ["13a", "char"],
    },
    "unicode_punct": {
        "hyps": [
            "«Bonjour», dit-il — et puis… rien.",
            "„Guten Morgen“, sagte sie.",
            "“Quoted” text — with dashes…",
            "今日は、晴れです。",
        ],
        "refs": [[
            "« Bonjour », dit-il — puis… plus rien.",
            "„Guten Morgen“, sagte sie leise.",
            "“Quoted” text — with a dash…",
            "今日は晴れです。",
        ]],
        "tokenizers": ["13a", "intl", "char"],
    },
    "numbers": {
        "hyps": [
            "The price rose from 1,250.75 to 1,300 in 2023.",
            "Call 555-0199 between 9 and 17.",
            "Only 3 of 12 tests (25%) failed.",
        ],
        "refs": [[
            "The price rose from 1,250.75 to 1,300 in 2023.",
            "Call 555-0199 between 9 am and 5 pm.",
            "Only three of 12 tests (25 %) failed.",
        ]],
        "tokenizers": ["13a", "intl", "none"],
    },
    "mixed_case": {
        "hyps": [
            "THE QUICK BROWN FOX jumps over the lazy dog",
            "New York Is A Big City",
            "ΣΟΦΙΑ ΚΑΙ ΓΝΩΣΙΣ",
        ],
        "refs": [[
            "The quick brown fox jumps over the lazy dog",
            "New York is a big city",
            "Σοφία και γνώσις",
        ]],
        "tokenizers": ["13a", "intl"],
    },
    "perfect": {
        "hyps": [
            "A perfect translation matches the reference.",
            "Every single word is the same here too.",
        ],
        "refs": [[
            "A perfect translation matches the reference.",
            "Every single word is the same here too.",
        ]],
        "tokenizers": ["13a", "char"],
    },
    "zero_overlap": {
        "hyps": [
            "apples oranges bananas",
            "xylophone quartz",
        ],
        "refs": [[
            "completely different words here",
            "nothing shared at all",
        ]],
        "tokenizers": ["13a", "char"],
    },
    "short_segments": {
        "hyps": [
            "yes",
            "no thanks",
            "see you soon",
        ],
        "refs": [[
            "yes",
            "no thank you",
            "see you later",
        ]],
        "tokenizers": ["13a"],
    },
    "multi_ref": {
        "hyps": [
            "The meeting was postponed until next week.",
            "He quickly ran to the station.",
            "They have lived here for ten years.",
        ],
        "refs": [
            [
                "The meeting has been postponed to next week.",
                "He ran quickly to the station.",
                "They have lived here for ten years.",
            ],
            [
                "The meeting was delayed until next week.",
                "He hurried to the train station.",
                "They've been living here for a decade.",
            ],
        ],
        "tokenizers": ["13a", "intl"],
    },
}

# Sentences for the paired bootstrap example: the candidate makes one small
# error per sentence, the baseline drops and reorders words.
BOOTSTRAP_REFS = [
    "The river flows quietly through the old town.",
    "Children were playing football in the park.",
    "Our train leaves at half past six tomorrow.",
    "She wrote a long letter to her grandmother.",
    "The museum is closed on Mondays and holidays.",
    "He forgot his umbrella at the restaurant.",
    "We planted three apple trees in the garden.",
    "The weather will improve later this week.",
    "Please turn off the lights when you leave.",
    "The committee approved the new budget yesterday.",
    "My neighbour repairs old bicycles as a hobby.",
    "The bakery sells fresh bread every morning.",
    "They watched the sunset from the hill.",
    "The doctor told him to rest for a few days.",
    "A small boat sailed across the calm lake.",
    "The students asked many questions after the talk.",
    "I found my keys under the sofa.",
    "The concert was cancelled because of the storm.",
    "Her brother works as an engineer in Osaka.",
    "The library extended its opening hours.",
    "We need more chairs for the meeting room.",
    "The cat slept on the warm windowsill all afternoon.",
    "Prices for vegetables rose sharply this month.",
    "The bridge will be closed for repairs in May.",
]


def _candidate(ref):
    words = ref.split()
    # one substitution in the middle of the sentence
    mid = len(words) // 2
    words[mid] = "something"
    return " ".join(words)


def _baseline(ref):
    words = ref.rstrip(".").split()
    # drop every third word and swap the first two
    kept = [w for i, w in enumerate(words) if i % 3 != 1]
    if len(kept) > 2:
        kept[0], kept[1] = kept[1], kept[0]
    return " ".join(kept)


def bleu_case(hyps, refs, tok, lowercase=False, eff=False, smooth="exp", smooth_value=None):
    metric = BLEU(
        tokenize=tok,
        lowercase=lowercase,
        effective_order=eff,
        smooth_method=smooth,
        smooth_value=smooth_value,
    )
    score = metric.corpus_score(hyps, refs)
    return {
        "tokenize": tok,
        "lowercase": lowercase,
        "effective_order": eff,
        "smooth_method": smooth,
        "smooth_value": smooth_value,
        "score": score.score,
        "precisions": list(score.precisions),
        "bp": score.bp,
        "sys_len": score.sys_len,
        "ref_len": score.ref_len,
        "counts": [int(c) for c in score.counts],
        "totals": [int(t) for t in score.totals],
        "signature": metric.get_signature().format(),
    }


def chrf_case(hyps, refs, word_order, lowercase=False, whitespace=False, eps=False):
    metric = CHRF(
        word_order=word_order, lowercase=lowercase, whitespace=whitespace, eps_smoothing=eps
    )
    score = metric.corpus_score(hyps, refs)
    return {
        "word_order": word_order,
        "lowercase": lowercase,
        "whitespace": whitespace,
        "eps_smoothing": eps,
        "name": score.name,
        "score": score.score,
        "signature": metric.get_signature().format(),
    }


def make_set(name, spec):
    hyps, refs = spec["hyps"], spec["refs"]
    bleu = []
    for tok in spec["tokenizers"]:
        for lc in (False, True):
            bleu.append(bleu_case(hyps, refs, tok, lowercase=lc))
    first = spec["tokenizers"][0]
    bleu.append(bleu_case(hyps, refs, first, eff=True))
    bleu.append(bleu_case(hyps, refs, first, smooth="none"))
    bleu.append(bleu_case(hyps, refs, first, smooth="floor"))
    bleu.append(bleu_case(hyps, refs, first, smooth="add-k"))

    chrf = []
    for wo in (0, 2):
        for lc in (False, True):
            chrf.append(chrf_case(hyps, refs, wo, lowercase=lc))
        chrf.append(chrf_case(hyps, refs, wo, eps=True))
        chrf.append(chrf_case(hyps, refs, wo, whitespace=True))

    # Per-segment sufficient statistics for the default metrics, the input of
    # bootstrap resampling.
    bleu_default = BLEU(tokenize=first)
    chrf_pp = CHRF(word_order=2)
    segment_stats = {
        "bleu": [[int(x) for x in s] for s in bleu_default._extract_corpus_statistics(hyps, refs)],
        "chrf++": [[int(x) for x in s] for s in chrf_pp._extract_corpus_statistics(hyps, refs)],
    }
    return {
        "name": name,
        "hyps": hyps,
        "refs": refs,
        "segment_stats_tokenize": first,
        "segment_stats": segment_stats,
        "bleu": bleu,
        "chrf": chrf,
    }


def make_tokenizers():
    cases = []
    for line in TOKENIZER_INPUTS:
        case = {"input": line}
        for tok_name, tok in TOKENIZERS.items():
            case[tok_name] = tok(line)
        cases.append(case)
    return {"cases": cases}


def _paired_bs(systems, refs, seed):
    """sacreBLEU's paired bootstrap test (1000 resamples) of BLEU and chrF."""
    os.environ["SACREBLEU_SEED"] = str(seed)
    metrics = {"BLEU": BLEU(), "chrF": CHRF()}
    return PairedTest(systems, metrics, refs, test_type="bs", n_samples=1000)()


def _range(values):
    return None if not values else [min(values), max(values)]


def make_bootstrap():
    refs = [BOOTSTRAP_REFS]
    baseline = [_baseline(r) for r in BOOTSTRAP_REFS]
    candidate = [_candidate(r) for r in BOOTSTRAP_REFS]
    # A third system nearly identical to the baseline (one sentence fixed).
    close = list(baseline)
    close[0] = BOOTSTRAP_REFS[0]
    systems = [("baseline", baseline), ("candidate", candidate), ("close", close)]
    signatures, scores = _paired_bs(systems, refs, seed=12345)
    # The p-value of a near tie moves with the random draw: record its range
    # over other seeds so that a different RNG can be judged fairly.
    p_values = {}
    for seed in range(1, 21):
        _, other = _paired_bs(systems, refs, seed=seed)
        for metric_name, rows in other.items():
            for sys_name, r in zip(other["System"], rows):
                if metric_name != "System" and r.p_value is not None:
                    p_values.setdefault((metric_name, sys_name), []).append(float(r.p_value))
    results = {}
    for metric_name, rows in scores.items():
        if metric_name == "System":
            continue
        results[metric_name] = {
            sys_name: {
                "score": float(r.score),
                "mean": float(r.mean),
                "ci": float(r.ci),
                "p_value": None if r.p_value is None else float(r.p_value),
                "p_value_range_seeds_1_20": _range(p_values.get((metric_name, sys_name))),
            }
            for sys_name, r in zip(scores["System"], rows)
        }
    return {
        "n_samples": 1000,
        "seed": 12345,
        "refs": refs,
        "systems": {name: hyps for name, hyps in systems},
        "signatures": {k: v.format() for k, v in signatures.items()},
        "results": results,
    }


def _compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _dumps(obj, indent=""):
    """JSON with one line per top-level key and one line per list item or
    nested key, so that the files stay small yet diff well."""
    inner = indent + " "
    if isinstance(obj, dict) and indent == "":
        items = [f'{inner}{_compact(k)}:{_dumps(v, inner)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n}"
    if isinstance(obj, dict) and any(isinstance(v, (dict, list)) for v in obj.values()):
        items = [f'{inner}{_compact(k)}:{_compact(v)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        items = [inner + _compact(v) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    return _compact(obj)


def write(name, obj):
    path = os.path.join(OUT_DIR, f"{name}.json")
    text = _dumps(obj)
    assert json.loads(text) == obj
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


def main():
    if not sacrebleu.__version__.startswith("2."):
        sys.exit(f"need sacreBLEU 2.x, found {sacrebleu.__version__}")
    os.makedirs(OUT_DIR, exist_ok=True)
    meta = {"sacrebleu_version": sacrebleu.__version__}
    write("tokenizers", {**meta, **make_tokenizers()})
    for name, spec in SETS.items():
        write(f"set_{name}", {**meta, **make_set(name, spec)})
    write("paired_bootstrap", {**meta, **make_bootstrap()})


if __name__ == "__main__":
    main()
