//! The project's own synthetic parallel corpora: nothing is downloaded.
//!
//! Three tasks, all deterministic for a seed (same [`SynthConfig`] → byte-identical output,
//! given the same `rand` version in `Cargo.lock`):
//!
//! * [`SynthTask::Copy`]: the source is a sequence of tokens drawn uniformly from a fixed
//!   vocabulary of 40 word-like tokens (`a0` … `d9`); the target is identical.
//! * [`SynthTask::Reverse`]: same sources; the target is the source in reverse order.
//! * [`SynthTask::Grammar`]: a small bilingual toy grammar. The source is English-like (SVO,
//!   prepositions, post-nominal relative clauses), the target Japanese-like (SOV, romanized,
//!   space separated, postpositions and particles `wa`/`ga`/`o`/`ni`/`de`/`no`/`to`, pre-nominal
//!   relative clauses), so that translating needs non-trivial, long-distance reordering:
//!
//!   ```text
//!   the cat that ate the fish sleeps in the big house .
//!   sakana o tabeta neko wa ookii ie no naka de neru .
//!   ```
//!
//!   Both sides are lower case and end with the token `.`. Every English content word maps to
//!   exactly one target word (tense is kept: `eats`/`eat` → `taberu`, `ate` → `tabeta`; plural
//!   animate nouns get `tachi`), and every English sentence has exactly one parse (each noun
//!   phrase takes at most one post-modifier and each verb at most one prepositional phrase, so a
//!   following phrase always attaches to the nearest noun), which makes the target a function of
//!   the source: the task is learnable exactly.
//!
//! Lengths are counted in source words: whitespace-separated tokens of the source line, the
//! final `.` of a grammar sentence included. Each pair's source length is drawn uniformly from
//! `[min_len, max_len]` and hit exactly (grammar: by length-targeted expansion of a sentence
//! skeleton, recursing through prepositional phrases, relative clauses and conjoined clauses).

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Errors of the synthetic corpus generator.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// `min_len`/`max_len` do not describe a non-empty range of positive lengths.
    #[error("invalid length range {min_len}..={max_len}: need 1 <= min_len <= max_len")]
    InvalidLengthRange {
        /// The requested minimum length.
        min_len: usize,
        /// The requested maximum length.
        max_len: usize,
    },
    /// The range contains lengths the task cannot produce.
    #[error(
        "invalid length range {min_len}..={max_len} for the {task} task: its sentences have at \
         least {shortest} words (e.g. \"cats sleep .\")"
    )]
    LengthTooShort {
        /// The task.
        task: SynthTask,
        /// The requested minimum length.
        min_len: usize,
        /// The requested maximum length.
        max_len: usize,
        /// The shortest sentence the task can produce.
        shortest: usize,
    },
    /// An unknown task name (see [`SynthTask::from_str`]).
    #[error("unknown synthetic task '{0}' (expected one of: copy, reverse, grammar)")]
    UnknownTask(String),
    /// Creating or writing a file or directory failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Which synthetic corpus to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SynthTask {
    /// Target = source.
    Copy,
    /// Target = source reversed.
    Reverse,
    /// English-like SVO source, Japanese-like SOV target.
    Grammar,
}

impl SynthTask {
    /// All tasks, in declaration order.
    pub const ALL: [SynthTask; 3] = [SynthTask::Copy, SynthTask::Reverse, SynthTask::Grammar];

    /// The lowercase name used by [`Display`](fmt::Display), [`FromStr`] and serde.
    pub fn name(self) -> &'static str {
        match self {
            SynthTask::Copy => "copy",
            SynthTask::Reverse => "reverse",
            SynthTask::Grammar => "grammar",
        }
    }

    /// The shortest source (in words) the task can produce.
    pub fn min_supported_len(self) -> usize {
        match self {
            SynthTask::Copy | SynthTask::Reverse => 1,
            SynthTask::Grammar => GRAMMAR_MIN_LEN,
        }
    }
}

impl fmt::Display for SynthTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SynthTask {
    type Err = SynthError;

    /// Parses `copy`, `reverse` or `grammar` (ASCII case-insensitive, surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        SynthTask::ALL
            .into_iter()
            .find(|task| task.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| SynthError::UnknownTask(s.to_string()))
    }
}

/// What to generate. Lengths are in source words (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynthConfig {
    /// The task.
    pub task: SynthTask,
    /// Number of pairs ([`write_splits`]: the number of training pairs).
    pub pairs: usize,
    /// Shortest source, in words (inclusive).
    pub min_len: usize,
    /// Longest source, in words (inclusive).
    pub max_len: usize,
    /// RNG seed.
    pub seed: u64,
}

impl SynthConfig {
    /// Checks the length range against the task.
    pub fn validate(&self) -> Result<(), SynthError> {
        if self.min_len == 0 || self.min_len > self.max_len {
            return Err(SynthError::InvalidLengthRange {
                min_len: self.min_len,
                max_len: self.max_len,
            });
        }
        let shortest = self.task.min_supported_len();
        if self.min_len < shortest {
            return Err(SynthError::LengthTooShort {
                task: self.task,
                min_len: self.min_len,
                max_len: self.max_len,
                shortest,
            });
        }
        Ok(())
    }
}

/// One sentence pair; tokens are separated by single spaces, no newline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SynthPair {
    /// Source sentence.
    pub src: String,
    /// Target sentence.
    pub tgt: String,
}

/// Line counts written by [`write_splits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitCounts {
    /// Training pairs.
    pub train: usize,
    /// Validation pairs.
    pub valid: usize,
    /// Test pairs.
    pub test: usize,
}

/// Default size of each held-out split (valid and test) for `pairs` training pairs:
/// `max(pairs / 20, 50)`.
pub fn default_heldout(pairs: usize) -> usize {
    (pairs / 20).max(50)
}

/// Generates `config.pairs` pairs. Deterministic: the same config gives the same pairs, and a
/// smaller `pairs` gives a prefix of a larger one.
pub fn generate(config: &SynthConfig) -> Result<Vec<SynthPair>, SynthError> {
    config.validate()?;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut out = Vec::with_capacity(config.pairs);
    for _ in 0..config.pairs {
        let len = rng.random_range(config.min_len..=config.max_len);
        let pair = match config.task {
            SynthTask::Copy | SynthTask::Reverse => {
                let mut toks: Vec<&str> = (0..len)
                    .map(|_| COPY_VOCAB[rng.random_range(0..COPY_VOCAB.len())])
                    .collect();
                let src = toks.join(" ");
                if config.task == SynthTask::Reverse {
                    toks.reverse();
                }
                SynthPair {
                    src,
                    tgt: toks.join(" "),
                }
            }
            SynthTask::Grammar => {
                let tree = build_sentence(&mut rng, len);
                let (src, tgt) = tree.render();
                SynthPair {
                    src: src.join(" "),
                    tgt: tgt.join(" "),
                }
            }
        };
        out.push(pair);
    }
    Ok(out)
}

/// Writes `dir/{train,valid,test}.{src,tgt}` (UTF-8, one sentence per line, each line ending in
/// `\n`), creating `dir`. `config.pairs` is the training size; `valid` and `test` pairs come from
/// the same distribution with seeds derived from `config.seed` (the training split uses
/// `config.seed` itself, so `train.*` equals [`generate`]`(config)`). Each file is written to a
/// temporary file in `dir` and renamed into place. CLIs default `valid` and `test` to
/// [`default_heldout`]`(pairs)`.
pub fn write_splits(
    dir: &Path,
    config: &SynthConfig,
    valid: usize,
    test: usize,
) -> Result<SplitCounts, SynthError> {
    config.validate()?;
    fs::create_dir_all(dir).map_err(|source| SynthError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let splits = [
        ("train", config.pairs, config.seed),
        ("valid", valid, derive_seed(config.seed, 1)),
        ("test", test, derive_seed(config.seed, 2)),
    ];
    for (name, pairs, seed) in splits {
        let cfg = SynthConfig {
            pairs,
            seed,
            ..config.clone()
        };
        let data = generate(&cfg)?;
        write_lines_atomic(
            &dir.join(format!("{name}.src")),
            data.iter().map(|p| &p.src),
        )?;
        write_lines_atomic(
            &dir.join(format!("{name}.tgt")),
            data.iter().map(|p| &p.tgt),
        )?;
    }
    Ok(SplitCounts {
        train: config.pairs,
        valid,
        test,
    })
}

/// SplitMix64 finaliser over `seed` and a stream number: well-separated seeds per split.
fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn write_lines_atomic<'a>(
    path: &Path,
    lines: impl Iterator<Item = &'a String>,
) -> Result<(), SynthError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SynthError::Io { path: p, source }
    };
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp).map_err(io_err(&tmp))?);
        for line in lines {
            w.write_all(line.as_bytes()).map_err(io_err(&tmp))?;
            w.write_all(b"\n").map_err(io_err(&tmp))?;
        }
        let file = w.into_inner().map_err(|e| SynthError::Io {
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io_err(&tmp))?;
        drop(file);
        fs::rename(&tmp, path).map_err(io_err(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

// ---------------------------------------------------------------------------------------------
// Copy / reverse vocabulary.

/// The 40 tokens of the copy and reverse tasks.
const COPY_VOCAB: [&str; 40] = [
    "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", //
    "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", //
    "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", //
    "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9",
];

// ---------------------------------------------------------------------------------------------
// Grammar lexicon. Every English form maps to exactly one target form.

/// Shortest grammar sentence: a bare plural subject, an intransitive verb and ".".
const GRAMMAR_MIN_LEN: usize = 3;

struct Noun {
    sg: &'static str,
    pl: &'static str,
    ja: &'static str,
    animate: bool,
}

const fn n(sg: &'static str, pl: &'static str, ja: &'static str, animate: bool) -> Noun {
    Noun {
        sg,
        pl,
        ja,
        animate,
    }
}

/// Nouns; animate ones can be subjects and take the plural marker `tachi` in the target.
const NOUNS: [Noun; 61] = [
    n("cat", "cats", "neko", true),
    n("dog", "dogs", "inu", true),
    n("bird", "birds", "tori", true),
    n("boy", "boys", "shounen", true),
    n("girl", "girls", "shoujo", true),
    n("man", "men", "otoko", true),
    n("woman", "women", "onna", true),
    n("child", "children", "kodomo", true),
    n("teacher", "teachers", "sensei", true),
    n("student", "students", "gakusei", true),
    n("doctor", "doctors", "isha", true),
    n("farmer", "farmers", "noufu", true),
    n("king", "kings", "ou", true),
    n("queen", "queens", "joou", true),
    n("friend", "friends", "tomodachi", true),
    n("mouse", "mice", "nezumi", true),
    n("horse", "horses", "uma", true),
    n("rabbit", "rabbits", "usagi", true),
    n("monkey", "monkeys", "saru", true),
    n("fox", "foxes", "kitsune", true),
    n("bear", "bears", "kuma", true),
    n("cook", "cooks", "ryourinin", true),
    n("singer", "singers", "kashu", true),
    n("painter", "painters", "gaka", true),
    n("house", "houses", "ie", false),
    n("park", "parks", "kouen", false),
    n("box", "boxes", "hako", false),
    n("table", "tables", "teeburu", false),
    n("book", "books", "hon", false),
    n("apple", "apples", "ringo", false),
    n("fish", "fish", "sakana", false),
    n("letter", "letters", "tegami", false),
    n("car", "cars", "kuruma", false),
    n("tree", "trees", "ki", false),
    n("river", "rivers", "kawa", false),
    n("mountain", "mountains", "yama", false),
    n("garden", "gardens", "niwa", false),
    n("school", "schools", "gakkou", false),
    n("city", "cities", "machi", false),
    n("bridge", "bridges", "hashi", false),
    n("door", "doors", "tobira", false),
    n("window", "windows", "mado", false),
    n("chair", "chairs", "isu", false),
    n("cup", "cups", "koppu", false),
    n("flower", "flowers", "hana", false),
    n("picture", "pictures", "e", false),
    n("hat", "hats", "boushi", false),
    n("bag", "bags", "kaban", false),
    n("room", "rooms", "heya", false),
    n("station", "stations", "eki", false),
    n("road", "roads", "michi", false),
    n("boat", "boats", "fune", false),
    n("key", "keys", "kagi", false),
    n("song", "songs", "uta", false),
    n("cake", "cakes", "keeki", false),
    n("ball", "balls", "booru", false),
    n("kitchen", "kitchens", "daidokoro", false),
    n("forest", "forests", "mori", false),
    n("shop", "shops", "mise", false),
    n("village", "villages", "mura", false),
    n("island", "islands", "shima", false),
];

/// Attributive adjectives: English word, target word(s) (na-adjectives take `na`).
const ADJS: [(&str, &[&str]); 27] = [
    ("big", &["ookii"]),
    ("small", &["chiisai"]),
    ("red", &["akai"]),
    ("blue", &["aoi"]),
    ("old", &["furui"]),
    ("new", &["atarashii"]),
    ("white", &["shiroi"]),
    ("black", &["kuroi"]),
    ("long", &["nagai"]),
    ("short", &["mijikai"]),
    ("young", &["wakai"]),
    ("hot", &["atsui"]),
    ("cold", &["tsumetai"]),
    ("strong", &["tsuyoi"]),
    ("heavy", &["omoi"]),
    ("dark", &["kurai"]),
    ("bright", &["akarui"]),
    ("fast", &["hayai"]),
    ("slow", &["osoi"]),
    ("expensive", &["takai"]),
    ("cheap", &["yasui"]),
    ("sweet", &["amai"]),
    ("quiet", &["shizuka", "na"]),
    ("famous", &["yuumei", "na"]),
    ("kind", &["shinsetsu", "na"]),
    ("beautiful", &["kirei", "na"]),
    ("happy", &["shiawase", "na"]),
];

/// Pre-verbal adverbs (English: before the verb; target: right before the verb).
const ADVERBS: [(&str, &str); 7] = [
    ("often", "yoku"),
    ("always", "itsumo"),
    ("sometimes", "tokidoki"),
    ("quickly", "hayaku"),
    ("slowly", "yukkuri"),
    ("quietly", "sotto"),
    ("happily", "tanoshiku"),
];

struct Verb {
    /// Present, third person singular.
    s3: &'static str,
    /// Present, plural.
    base: &'static str,
    past: &'static str,
    ja_present: &'static str,
    ja_past: &'static str,
}

const fn v(
    base: &'static str,
    s3: &'static str,
    past: &'static str,
    ja_present: &'static str,
    ja_past: &'static str,
) -> Verb {
    Verb {
        s3,
        base,
        past,
        ja_present,
        ja_past,
    }
}

/// Intransitive verbs (subject only; may take one prepositional phrase).
const INTRANSITIVE: [Verb; 16] = [
    v("sleep", "sleeps", "slept", "neru", "neta"),
    v("run", "runs", "ran", "hashiru", "hashitta"),
    v("walk", "walks", "walked", "aruku", "aruita"),
    v("sing", "sings", "sang", "utau", "utatta"),
    v("laugh", "laughs", "laughed", "warau", "waratta"),
    v("swim", "swims", "swam", "oyogu", "oyoida"),
    v("sit", "sits", "sat", "suwaru", "suwatta"),
    v("wait", "waits", "waited", "matsu", "matta"),
    v("cry", "cries", "cried", "naku", "naita"),
    v("dance", "dances", "danced", "odoru", "odotta"),
    v("work", "works", "worked", "hataraku", "hataraita"),
    v("play", "plays", "played", "asobu", "asonda"),
    v("rest", "rests", "rested", "yasumu", "yasunda"),
    v("jump", "jumps", "jumped", "tobu", "tonda"),
    v("smile", "smiles", "smiled", "hohoemu", "hohoenda"),
    v("live", "lives", "lived", "sumu", "sunda"),
];

/// Transitive verbs (subject and direct object `o`).
const TRANSITIVE: [Verb; 23] = [
    v("eat", "eats", "ate", "taberu", "tabeta"),
    v("see", "sees", "saw", "miru", "mita"),
    v("write", "writes", "wrote", "kaku", "kaita"),
    v("buy", "buys", "bought", "kau", "katta"),
    v("make", "makes", "made", "tsukuru", "tsukutta"),
    v("find", "finds", "found", "mitsukeru", "mitsuketa"),
    v("carry", "carries", "carried", "hakobu", "hakonda"),
    v("open", "opens", "opened", "akeru", "aketa"),
    v("fill", "fills", "filled", "mitasu", "mitashita"),
    v("wash", "washes", "washed", "arau", "aratta"),
    v("draw", "draws", "drew", "egaku", "egaita"),
    v("catch", "catches", "caught", "tsukamaeru", "tsukamaeta"),
    v("build", "builds", "built", "tateru", "tateta"),
    v("sell", "sells", "sold", "uru", "utta"),
    v("drink", "drinks", "drank", "nomu", "nonda"),
    v("chase", "chases", "chased", "oikakeru", "oikaketa"),
    v("hold", "holds", "held", "motsu", "motta"),
    v("take", "takes", "took", "toru", "totta"),
    v("push", "pushes", "pushed", "osu", "oshita"),
    v("love", "loves", "loved", "aisuru", "aishita"),
    v("help", "helps", "helped", "tasukeru", "tasuketa"),
    v("visit", "visits", "visited", "tazuneru", "tazuneta"),
    v("break", "breaks", "broke", "kowasu", "kowashita"),
];

/// Ditransitive verbs: "V obj to io" → "io ni obj o V".
const DITRANSITIVE: [Verb; 6] = [
    v("give", "gives", "gave", "ageru", "ageta"),
    v("send", "sends", "sent", "okuru", "okutta"),
    v("show", "shows", "showed", "miseru", "miseta"),
    v("teach", "teaches", "taught", "oshieru", "oshieta"),
    v("lend", "lends", "lent", "kasu", "kashita"),
    v("throw", "throws", "threw", "nageru", "nageta"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VerbClass {
    Intransitive,
    Transitive,
    Ditransitive,
}

impl VerbClass {
    fn verbs(self) -> &'static [Verb] {
        match self {
            VerbClass::Intransitive => &INTRANSITIVE,
            VerbClass::Transitive => &TRANSITIVE,
            VerbClass::Ditransitive => &DITRANSITIVE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Det {
    The,
    A,
    This,
    Every,
    Some,
    These,
    Many,
}

impl Det {
    const SINGULAR: [(Det, u32); 4] = [(Det::The, 4), (Det::A, 3), (Det::This, 1), (Det::Every, 1)];
    const PLURAL: [(Det, u32); 4] = [
        (Det::The, 4),
        (Det::Some, 1),
        (Det::These, 1),
        (Det::Many, 1),
    ];

    /// English form; `A` is `a` or `an` depending on the next word.
    fn en(self, next: &str) -> &'static str {
        match self {
            Det::The => "the",
            Det::A if next.starts_with(['a', 'e', 'i', 'o', 'u']) => "an",
            Det::A => "a",
            Det::This => "this",
            Det::Every => "every",
            Det::Some => "some",
            Det::These => "these",
            Det::Many => "many",
        }
    }

    fn ja(self) -> &'static [&'static str] {
        match self {
            Det::The | Det::A => &[],
            Det::This | Det::These => &["kono"],
            Det::Every => &["subete", "no"],
            Det::Some => &["ikutsuka", "no"],
            Det::Many => &["takusan", "no"],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prep {
    In,
    On,
    Under,
    Near,
    Behind,
    With,
    From,
    Of,
}

impl Prep {
    /// Prepositions that can modify a noun.
    const NOMINAL: [Prep; 8] = [
        Prep::In,
        Prep::On,
        Prep::Under,
        Prep::Near,
        Prep::Behind,
        Prep::With,
        Prep::From,
        Prep::Of,
    ];
    /// Prepositions that can modify an (intransitive) verb.
    const VERBAL: [Prep; 7] = [
        Prep::In,
        Prep::On,
        Prep::Under,
        Prep::Near,
        Prep::Behind,
        Prep::With,
        Prep::From,
    ];

    fn en(self) -> &'static str {
        match self {
            Prep::In => "in",
            Prep::On => "on",
            Prep::Under => "under",
            Prep::Near => "near",
            Prep::Behind => "behind",
            Prep::With => "with",
            Prep::From => "from",
            Prep::Of => "of",
        }
    }

    /// Required animacy of the prepositional object (`None`: any).
    fn object_animate(self) -> Option<bool> {
        match self {
            Prep::With => Some(true),
            Prep::Of => None,
            _ => Some(false),
        }
    }

    /// Postposition after the object when the phrase modifies a noun ("ie no naka no neko").
    fn ja_nominal(self) -> &'static [&'static str] {
        match self {
            Prep::In => &["no", "naka", "no"],
            Prep::On => &["no", "ue", "no"],
            Prep::Under => &["no", "shita", "no"],
            Prep::Near => &["no", "chikaku", "no"],
            Prep::Behind => &["no", "ushiro", "no"],
            Prep::With => &["to", "issho", "no"],
            Prep::From => &["kara", "no"],
            Prep::Of => &["no"],
        }
    }

    /// Postposition after the object when the phrase modifies a verb ("ie no naka de neru").
    fn ja_verbal(self) -> &'static [&'static str] {
        match self {
            Prep::In => &["no", "naka", "de"],
            Prep::On => &["no", "ue", "de"],
            Prep::Under => &["no", "shita", "de"],
            Prep::Near => &["no", "chikaku", "de"],
            Prep::Behind => &["no", "ushiro", "de"],
            Prep::With => &["to", "issho", "ni"],
            Prep::From => &["kara"],
            Prep::Of => &["no"],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conj {
    And,
    But,
    Because,
}

impl Conj {
    const ALL: [Conj; 3] = [Conj::And, Conj::But, Conj::Because];

    fn en(self) -> &'static str {
        match self {
            Conj::And => "and",
            Conj::But => "but",
            Conj::Because => "because",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sentence trees (arena indices), rendering and length-targeted generation.

type NpId = usize;
type VpId = usize;

#[derive(Debug, Clone)]
struct Np {
    noun: usize,
    plural: bool,
    det: Option<Det>,
    adjs: Vec<usize>,
    post: Post,
}

#[derive(Debug, Clone)]
enum Post {
    None,
    /// "the cat in the house": the phrase's object.
    Pp(Prep, NpId),
    /// Subject-gap relative clause: "the cat that ate the fish".
    SubjRc(VpId),
    /// Object-gap relative clause: "the fish that the cat ate" (the VP has no object).
    ObjRc(NpId, VpId),
}

#[derive(Debug, Clone)]
struct Vp {
    class: VerbClass,
    verb: usize,
    past: bool,
    adverb: Option<usize>,
    /// Direct object (transitive/ditransitive; `None` = the gap of an object relative clause).
    obj: Option<NpId>,
    /// Indirect object ("to ...") of a ditransitive verb.
    io: Option<NpId>,
    /// Prepositional phrase of an intransitive verb.
    pp: Option<(Prep, NpId)>,
}

#[derive(Debug, Clone, Copy)]
struct Clause {
    subj: NpId,
    vp: VpId,
}

#[derive(Debug, Clone, Default)]
struct Tree {
    nps: Vec<Np>,
    vps: Vec<Vp>,
    clauses: Vec<Clause>,
    /// `conjs[i]` joins `clauses[i]` and `clauses[i + 1]` (right-nested).
    conjs: Vec<Conj>,
}

impl Tree {
    fn render(&self) -> (Vec<&'static str>, Vec<&'static str>) {
        let mut en = Vec::new();
        for (i, c) in self.clauses.iter().enumerate() {
            if i > 0 {
                en.push(self.conjs[i - 1].en());
            }
            self.en_clause(*c, &mut en);
        }
        en.push(".");
        let mut ja = Vec::new();
        self.ja_clauses(0, &mut ja);
        ja.push(".");
        (en, ja)
    }

    fn en_np(&self, id: NpId, out: &mut Vec<&'static str>) {
        let np = &self.nps[id];
        let noun = &NOUNS[np.noun];
        let head = if np.plural { noun.pl } else { noun.sg };
        if let Some(det) = np.det {
            let next = np.adjs.first().map_or(head, |&a| ADJS[a].0);
            out.push(det.en(next));
        }
        out.extend(np.adjs.iter().map(|&a| ADJS[a].0));
        out.push(head);
        match np.post {
            Post::None => {}
            Post::Pp(prep, obj) => {
                out.push(prep.en());
                self.en_np(obj, out);
            }
            Post::SubjRc(vp) => {
                out.push("that");
                self.en_vp(vp, np.plural, out);
            }
            Post::ObjRc(subj, vp) => {
                out.push("that");
                self.en_np(subj, out);
                self.en_vp(vp, self.nps[subj].plural, out);
            }
        }
    }

    fn en_vp(&self, id: VpId, plural_subject: bool, out: &mut Vec<&'static str>) {
        let vp = &self.vps[id];
        if let Some(a) = vp.adverb {
            out.push(ADVERBS[a].0);
        }
        let verb = &vp.class.verbs()[vp.verb];
        out.push(if vp.past {
            verb.past
        } else if plural_subject {
            verb.base
        } else {
            verb.s3
        });
        if let Some(obj) = vp.obj {
            self.en_np(obj, out);
        }
        if let Some(io) = vp.io {
            out.push("to");
            self.en_np(io, out);
        }
        if let Some((prep, obj)) = vp.pp {
            out.push(prep.en());
            self.en_np(obj, out);
        }
    }

    fn en_clause(&self, c: Clause, out: &mut Vec<&'static str>) {
        self.en_np(c.subj, out);
        self.en_vp(c.vp, self.nps[c.subj].plural, out);
    }

    /// Clauses `i..` right-nested: "A and REST" → "A soshite REST", "A but REST" →
    /// "A shikashi REST", "A because REST" → "REST node A".
    fn ja_clauses(&self, i: usize, out: &mut Vec<&'static str>) {
        let c = self.clauses[i];
        if i + 1 == self.clauses.len() {
            self.ja_clause(c, out);
            return;
        }
        match self.conjs[i] {
            Conj::Because => {
                self.ja_clauses(i + 1, out);
                out.push("node");
                self.ja_clause(c, out);
            }
            conj => {
                self.ja_clause(c, out);
                out.push(if conj == Conj::And {
                    "soshite"
                } else {
                    "shikashi"
                });
                self.ja_clauses(i + 1, out);
            }
        }
    }

    fn ja_clause(&self, c: Clause, out: &mut Vec<&'static str>) {
        self.ja_np(c.subj, out);
        out.push("wa");
        self.ja_vp(c.vp, out);
    }

    fn ja_np(&self, id: NpId, out: &mut Vec<&'static str>) {
        let np = &self.nps[id];
        match np.post {
            Post::None => {}
            Post::Pp(prep, obj) => {
                self.ja_np(obj, out);
                out.extend_from_slice(prep.ja_nominal());
            }
            Post::SubjRc(vp) => self.ja_vp(vp, out),
            Post::ObjRc(subj, vp) => {
                self.ja_np(subj, out);
                out.push("ga");
                self.ja_vp(vp, out);
            }
        }
        if let Some(det) = np.det {
            out.extend_from_slice(det.ja());
        }
        for &a in &np.adjs {
            out.extend_from_slice(ADJS[a].1);
        }
        let noun = &NOUNS[np.noun];
        out.push(noun.ja);
        if np.plural && noun.animate {
            out.push("tachi");
        }
    }

    fn ja_vp(&self, id: VpId, out: &mut Vec<&'static str>) {
        let vp = &self.vps[id];
        if let Some((prep, obj)) = vp.pp {
            self.ja_np(obj, out);
            out.extend_from_slice(prep.ja_verbal());
        }
        if let Some(io) = vp.io {
            self.ja_np(io, out);
            out.push("ni");
        }
        if let Some(obj) = vp.obj {
            self.ja_np(obj, out);
            out.push("o");
        }
        if let Some(a) = vp.adverb {
            out.push(ADVERBS[a].1);
        }
        let verb = &vp.class.verbs()[vp.verb];
        out.push(if vp.past {
            verb.ja_past
        } else {
            verb.ja_present
        });
    }
}

/// Most adjectives on one noun.
const MAX_ADJS: usize = 2;
/// Most conjoined clauses in one sentence.
const MAX_CLAUSES: usize = 4;

/// A length-increasing edit of a tree, with the fewest words it adds.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// +1: an adjective on a noun phrase.
    Adj(NpId),
    /// +1: a determiner on a bare (plural) noun phrase; may make it singular.
    Det(NpId),
    /// +1: an adverb before a verb.
    Adverb(VpId),
    /// +2..: a prepositional phrase or relative clause after a noun.
    NpPost(NpId),
    /// +2: a prepositional phrase after an intransitive verb.
    VpPp(VpId),
    /// +3..: a conjoined clause.
    Conj,
}

/// Words of the smallest clause (or verb phrase with "that"/a conjunction in front, which adds
/// one) of each class: "cats sleep", "cats see dogs", "cats give books to dogs".
fn min_clause_len(class: VerbClass) -> usize {
    match class {
        VerbClass::Intransitive => 2,
        VerbClass::Transitive => 3,
        VerbClass::Ditransitive => 5,
    }
}

struct Builder<'r> {
    rng: &'r mut StdRng,
    tree: Tree,
    /// Current English length, "." included.
    len: usize,
}

impl Builder<'_> {
    fn pick_weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|&(_, w)| w).sum();
        let mut r = self.rng.random_range(0..total);
        for &(item, w) in items {
            if r < w {
                return item;
            }
            r -= w;
        }
        unreachable!("weights sum to total")
    }

    fn pick_class(&mut self, budget: usize, extra: usize) -> Option<VerbClass> {
        let options: Vec<(VerbClass, u32)> = [
            (VerbClass::Intransitive, 3),
            (VerbClass::Transitive, 4),
            (VerbClass::Ditransitive, 1),
        ]
        .into_iter()
        .filter(|&(c, _)| min_clause_len(c) + extra <= budget)
        .collect();
        (!options.is_empty()).then(|| self.pick_weighted(&options))
    }

    /// A bare plural noun phrase (one word).
    fn new_np(&mut self, animate: Option<bool>) -> NpId {
        let candidates: Vec<usize> = (0..NOUNS.len())
            .filter(|&i| animate.is_none_or(|a| NOUNS[i].animate == a))
            .collect();
        let noun = candidates[self.rng.random_range(0..candidates.len())];
        self.tree.nps.push(Np {
            noun,
            plural: true,
            det: None,
            adjs: Vec::new(),
            post: Post::None,
        });
        self.tree.nps.len() - 1
    }

    /// A minimal verb phrase of `class`: verb plus bare objects (`gap`: no direct object).
    fn new_vp(&mut self, class: VerbClass, gap: bool) -> VpId {
        let verb = self.rng.random_range(0..class.verbs().len());
        let past = self.rng.random_bool(0.5);
        let obj = (class != VerbClass::Intransitive && !gap).then(|| self.new_np(None));
        let io = (class == VerbClass::Ditransitive).then(|| self.new_np(Some(true)));
        self.tree.vps.push(Vp {
            class,
            verb,
            past,
            adverb: None,
            obj,
            io,
            pp: None,
        });
        self.tree.vps.len() - 1
    }

    fn new_clause(&mut self, class: VerbClass) -> Clause {
        let subj = self.new_np(Some(true));
        let vp = self.new_vp(class, false);
        Clause { subj, vp }
    }

    /// The edits that fit into `remaining` more words.
    fn ops(&self, remaining: usize) -> Vec<(Op, u32)> {
        let mut ops = Vec::new();
        if remaining == 0 {
            return ops;
        }
        for (id, np) in self.tree.nps.iter().enumerate() {
            if np.adjs.len() < MAX_ADJS {
                ops.push((Op::Adj(id), 2));
            }
            if np.det.is_none() {
                ops.push((Op::Det(id), 4));
            }
            if remaining >= 2 && matches!(np.post, Post::None) {
                ops.push((Op::NpPost(id), 4));
            }
        }
        for (id, vp) in self.tree.vps.iter().enumerate() {
            if vp.adverb.is_none() {
                ops.push((Op::Adverb(id), 1));
            }
            if remaining >= 2 && vp.class == VerbClass::Intransitive && vp.pp.is_none() {
                ops.push((Op::VpPp(id), 4));
            }
        }
        if remaining >= 3 && self.tree.clauses.len() < MAX_CLAUSES {
            ops.push((Op::Conj, 3));
        }
        ops
    }

    /// Applies `op` within `remaining` words; returns the words added.
    fn apply(&mut self, op: Op, remaining: usize) -> usize {
        match op {
            Op::Adj(id) => {
                let taken = &self.tree.nps[id].adjs;
                let free: Vec<usize> = (0..ADJS.len()).filter(|a| !taken.contains(a)).collect();
                let adj = free[self.rng.random_range(0..free.len())];
                self.tree.nps[id].adjs.push(adj);
                1
            }
            Op::Det(id) => {
                let plural = self.rng.random_bool(0.5);
                let det = self.pick_weighted(if plural { &Det::PLURAL } else { &Det::SINGULAR });
                let np = &mut self.tree.nps[id];
                np.plural = plural;
                np.det = Some(det);
                1
            }
            Op::Adverb(id) => {
                self.tree.vps[id].adverb = Some(self.rng.random_range(0..ADVERBS.len()));
                1
            }
            Op::NpPost(id) => {
                let animate = NOUNS[self.tree.nps[id].noun].animate;
                // "prep NP" (2), "that VP" (1 + clause - 1), "that NP V [to NP]" (1 + clause).
                let mut kinds: Vec<(u8, u32)> = vec![(0, 4)];
                if animate && remaining >= 2 {
                    kinds.push((1, 3));
                }
                if remaining >= 3 {
                    kinds.push((2, 3));
                }
                match self.pick_weighted(&kinds) {
                    0 => {
                        let prep = Prep::NOMINAL[self.rng.random_range(0..Prep::NOMINAL.len())];
                        let obj = self.new_np(prep.object_animate());
                        self.tree.nps[id].post = Post::Pp(prep, obj);
                        2
                    }
                    1 => {
                        let class = self.pick_class(remaining, 0).expect("intransitive fits");
                        let vp = self.new_vp(class, false);
                        self.tree.nps[id].post = Post::SubjRc(vp);
                        min_clause_len(class)
                    }
                    _ => {
                        let class = if remaining >= 5 && self.rng.random_bool(0.2) {
                            VerbClass::Ditransitive
                        } else {
                            VerbClass::Transitive
                        };
                        let subj = self.new_np(Some(true));
                        let vp = self.new_vp(class, true);
                        self.tree.nps[id].post = Post::ObjRc(subj, vp);
                        // "that" + subject + verb (+ "to" + indirect object).
                        min_clause_len(class)
                    }
                }
            }
            Op::VpPp(id) => {
                let prep = Prep::VERBAL[self.rng.random_range(0..Prep::VERBAL.len())];
                let obj = self.new_np(prep.object_animate());
                self.tree.vps[id].pp = Some((prep, obj));
                2
            }
            Op::Conj => {
                let class = self.pick_class(remaining, 1).expect("intransitive fits");
                let conj = Conj::ALL[self.rng.random_range(0..Conj::ALL.len())];
                let clause = self.new_clause(class);
                self.tree.conjs.push(conj);
                self.tree.clauses.push(clause);
                1 + min_clause_len(class)
            }
        }
    }
}

/// One grammar sentence of exactly `target` English words ("." included), `target >= 3`.
fn build_sentence(rng: &mut StdRng, target: usize) -> Tree {
    debug_assert!(target >= GRAMMAR_MIN_LEN);
    loop {
        let mut b = Builder {
            rng: &mut *rng,
            tree: Tree::default(),
            len: 0,
        };
        let class = b.pick_class(target, 1).expect("target >= 3");
        let clause = b.new_clause(class);
        b.tree.clauses.push(clause);
        b.len = min_clause_len(class) + 1;
        while b.len < target {
            let remaining = target - b.len;
            let ops = b.ops(remaining);
            if ops.is_empty() {
                break;
            }
            let op = b.pick_weighted(&ops);
            b.len += b.apply(op, remaining);
        }
        // A dead end (one word left, every phrase saturated) is rare: start over.
        if b.len == target {
            return b.tree;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn cfg(
        task: SynthTask,
        pairs: usize,
        min_len: usize,
        max_len: usize,
        seed: u64,
    ) -> SynthConfig {
        SynthConfig {
            task,
            pairs,
            min_len,
            max_len,
            seed,
        }
    }

    fn words(s: &str) -> Vec<&str> {
        s.split(' ').collect()
    }

    #[test]
    fn synth_task_names_round_trip() {
        for task in SynthTask::ALL {
            assert_eq!(task.to_string().parse::<SynthTask>().unwrap(), task);
            let json = serde_json::to_string(&task).unwrap();
            assert_eq!(json, format!("\"{task}\""));
            assert_eq!(serde_json::from_str::<SynthTask>(&json).unwrap(), task);
        }
        assert_eq!(
            " Grammar ".parse::<SynthTask>().unwrap(),
            SynthTask::Grammar
        );
        let err = "mirror".parse::<SynthTask>().unwrap_err();
        assert!(err.to_string().contains("mirror"), "{err}");
    }

    #[test]
    fn synth_rejects_bad_ranges() {
        for (task, min, max) in [
            (SynthTask::Copy, 0, 5),
            (SynthTask::Copy, 6, 5),
            (SynthTask::Grammar, 2, 10),
            (SynthTask::Grammar, 1, 2),
        ] {
            let err = generate(&cfg(task, 3, min, max, 0)).unwrap_err();
            assert!(
                matches!(
                    err,
                    SynthError::InvalidLengthRange { .. } | SynthError::LengthTooShort { .. }
                ),
                "{err}"
            );
            assert!(err.to_string().contains(&format!("{min}..={max}")), "{err}");
        }
        assert_eq!(
            generate(&cfg(SynthTask::Copy, 2, 1, 1, 0)).unwrap().len(),
            2
        );
    }

    #[test]
    fn synth_is_deterministic() {
        for task in SynthTask::ALL {
            let a = generate(&cfg(task, 300, 3, 30, 7)).unwrap();
            let b = generate(&cfg(task, 300, 3, 30, 7)).unwrap();
            let c = generate(&cfg(task, 300, 3, 30, 8)).unwrap();
            assert_eq!(a, b, "{task}");
            assert_ne!(a, c, "{task}");
            // A smaller corpus is a prefix of a larger one.
            let prefix = generate(&cfg(task, 100, 3, 30, 7)).unwrap();
            assert_eq!(prefix[..], a[..100], "{task}");
        }
    }

    #[test]
    fn synth_copy_and_reverse_targets() {
        let vocab: HashSet<&str> = COPY_VOCAB.into_iter().collect();
        assert_eq!(vocab.len(), 40);
        for p in generate(&cfg(SynthTask::Copy, 500, 1, 20, 1)).unwrap() {
            assert_eq!(p.src, p.tgt);
            assert!(words(&p.src).iter().all(|w| vocab.contains(w)), "{}", p.src);
        }
        for p in generate(&cfg(SynthTask::Reverse, 500, 1, 20, 1)).unwrap() {
            let mut rev = words(&p.src);
            rev.reverse();
            assert_eq!(words(&p.tgt), rev);
        }
    }

    #[test]
    fn synth_lengths_within_range() {
        for task in SynthTask::ALL {
            for (min, max) in [(3, 3), (3, 8), (10, 20), (30, 50), (60, 80)] {
                let data = generate(&cfg(task, 400, min, max, 3)).unwrap();
                for p in &data {
                    let n = p.src.split_whitespace().count();
                    assert!(
                        (min..=max).contains(&n),
                        "{task} {min}-{max}: {n}: {}",
                        p.src
                    );
                    assert_eq!(p.src, p.src.trim());
                    assert!(!p.src.contains("  ") && !p.src.contains('\n'));
                    assert!(!p.tgt.contains("  ") && !p.tgt.contains('\n'));
                }
            }
        }
        // Every length of the range shows up (the length is targeted, not just bounded).
        let data = generate(&cfg(SynthTask::Grammar, 4000, 3, 50, 11)).unwrap();
        let seen: HashSet<usize> = data.iter().map(|p| p.src.split(' ').count()).collect();
        assert_eq!(seen, (3..=50).collect::<HashSet<_>>());
    }

    /// Builds a tree by hand: subject/object nouns by English singular name.
    fn noun(name: &str) -> usize {
        NOUNS.iter().position(|n| n.sg == name).unwrap()
    }

    fn verb(class: VerbClass, base: &str) -> usize {
        class.verbs().iter().position(|v| v.base == base).unwrap()
    }

    fn np(tree: &mut Tree, name: &str, det: Option<Det>, adjs: &[&str], post: Post) -> NpId {
        tree.nps.push(Np {
            noun: noun(name),
            plural: false,
            det,
            adjs: adjs
                .iter()
                .map(|a| ADJS.iter().position(|x| x.0 == *a).unwrap())
                .collect(),
            post,
        });
        tree.nps.len() - 1
    }

    fn vp(tree: &mut Tree, class: VerbClass, base: &str, past: bool, obj: Option<NpId>) -> VpId {
        tree.vps.push(Vp {
            class,
            verb: verb(class, base),
            past,
            adverb: None,
            obj,
            io: None,
            pp: None,
        });
        tree.vps.len() - 1
    }

    fn rendered(tree: &Tree) -> (String, String) {
        let (en, ja) = tree.render();
        (en.join(" "), ja.join(" "))
    }

    #[test]
    fn synth_grammar_sov_and_relative_clauses() {
        use VerbClass::*;
        // the cat eats the fish .
        let mut t = Tree::default();
        let cat = np(&mut t, "cat", Some(Det::The), &[], Post::None);
        let fish = np(&mut t, "fish", Some(Det::The), &[], Post::None);
        let eats = vp(&mut t, Transitive, "eat", false, Some(fish));
        t.clauses.push(Clause {
            subj: cat,
            vp: eats,
        });
        assert_eq!(
            rendered(&t),
            (
                "the cat eats the fish .".into(),
                "neko wa sakana o taberu .".into()
            )
        );

        // the cat that ate the fish sleeps in the big house .
        let mut t = Tree::default();
        let fish = np(&mut t, "fish", Some(Det::The), &[], Post::None);
        let ate = vp(&mut t, Transitive, "eat", true, Some(fish));
        let cat = np(&mut t, "cat", Some(Det::The), &[], Post::SubjRc(ate));
        let house = np(&mut t, "house", Some(Det::The), &["big"], Post::None);
        let sleeps = vp(&mut t, Intransitive, "sleep", false, None);
        t.vps[sleeps].pp = Some((Prep::In, house));
        t.clauses.push(Clause {
            subj: cat,
            vp: sleeps,
        });
        assert_eq!(
            rendered(&t),
            (
                "the cat that ate the fish sleeps in the big house .".into(),
                "sakana o tabeta neko wa ookii ie no naka de neru .".into()
            )
        );

        // an old dog sees the fish that the cat ate because the cats sleep .
        let mut t = Tree::default();
        let dog = np(&mut t, "dog", Some(Det::A), &["old"], Post::None);
        let cat = np(&mut t, "cat", Some(Det::The), &[], Post::None);
        let ate = vp(&mut t, Transitive, "eat", true, None);
        let fish = np(&mut t, "fish", Some(Det::The), &[], Post::ObjRc(cat, ate));
        let sees = vp(&mut t, Transitive, "see", false, Some(fish));
        let cats = np(&mut t, "cat", Some(Det::The), &[], Post::None);
        t.nps[cats].plural = true;
        let sleep = vp(&mut t, Intransitive, "sleep", false, None);
        t.clauses.push(Clause {
            subj: dog,
            vp: sees,
        });
        t.clauses.push(Clause {
            subj: cats,
            vp: sleep,
        });
        t.conjs.push(Conj::Because);
        assert_eq!(
            rendered(&t),
            (
                "an old dog sees the fish that the cat ate because the cats sleep .".into(),
                "neko tachi wa neru node furui inu wa neko ga tabeta sakana o miru .".into()
            )
        );
    }

    /// Target forms of all content words, and for each the English forms that map to it.
    fn content_map() -> HashMap<&'static str, Vec<&'static str>> {
        let mut map: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for n in &NOUNS {
            map.entry(n.ja).or_default().push(n.sg);
            if n.pl != n.sg {
                map.entry(n.ja).or_default().push(n.pl);
            }
        }
        for (en, ja) in ADJS {
            map.entry(ja[0]).or_default().push(en);
        }
        for (en, ja) in ADVERBS {
            map.entry(ja).or_default().push(en);
        }
        for v in INTRANSITIVE.iter().chain(&TRANSITIVE).chain(&DITRANSITIVE) {
            map.entry(v.ja_present).or_default().extend([v.base, v.s3]);
            map.entry(v.ja_past).or_default().push(v.past);
        }
        map
    }

    #[test]
    fn synth_lexicon_is_one_to_one() {
        let map = content_map();
        // No two content words share a target form, and no English form maps to two targets.
        let mut en_seen = HashSet::new();
        let mut entries = 0;
        for ens in map.values() {
            for en in ens {
                assert!(
                    en_seen.insert(*en),
                    "English form {en} maps to two target forms"
                );
                entries += 1;
            }
        }
        let distinct_ja = NOUNS.len() + ADJS.len() + ADVERBS.len() + 2 * (16 + 23 + 6);
        assert_eq!(
            map.len(),
            distinct_ja,
            "two content words share a target form"
        );
        assert!(entries > distinct_ja);
        // Function words never collide with content words.
        for f in [
            "wa", "ga", "o", "ni", "de", "no", "to", "na", "tachi", "kono", "soshite", "shikashi",
            "node", "naka", "ue", "shita", "chikaku", "ushiro", "issho", "kara", "subete",
            "ikutsuka", "takusan", ".",
        ] {
            assert!(!map.contains_key(f), "{f}");
        }
        for f in ["the", "a", "an", "that", "to", "and", "but", "because", "."] {
            assert!(!en_seen.contains(f), "{f}");
        }
    }

    #[test]
    fn synth_grammar_mapping_is_consistent() {
        let map = content_map();
        let animate_plurals: HashSet<&str> =
            NOUNS.iter().filter(|n| n.animate).map(|n| n.pl).collect();
        let verbs: HashSet<&str> = INTRANSITIVE
            .iter()
            .chain(&TRANSITIVE)
            .chain(&DITRANSITIVE)
            .flat_map(|v| [v.ja_present, v.ja_past])
            .collect();
        let data = generate(&cfg(SynthTask::Grammar, 2000, 3, 50, 5)).unwrap();
        let mut long = 0;
        for p in &data {
            let src = words(&p.src);
            let tgt = words(&p.tgt);
            assert_eq!(src.last(), Some(&"."));
            assert_eq!(tgt.last(), Some(&"."));
            // SOV: the target's last word before "." is a verb.
            assert!(verbs.contains(tgt[tgt.len() - 2]), "{}", p.tgt);
            // Each content word in the target is matched by one of its English forms.
            for (ja, ens) in &map {
                let in_tgt = tgt.iter().filter(|w| *w == ja).count();
                let in_src = src.iter().filter(|w| ens.contains(w)).count();
                assert_eq!(in_tgt, in_src, "{ja} ~ {ens:?}\n{}\n{}", p.src, p.tgt);
            }
            let tachi = tgt.iter().filter(|w| **w == "tachi").count();
            let plurals = src.iter().filter(|w| animate_plurals.contains(*w)).count();
            assert_eq!(tachi, plurals, "{}\n{}", p.src, p.tgt);
            long += usize::from(src.len() > 40);
        }
        assert!(long > 100, "{long} sentences over 40 words");
        // The same source always gets the same target.
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for p in &data {
            assert_eq!(*seen.entry(&p.src).or_insert(&p.tgt), p.tgt.as_str());
        }
    }

    #[test]
    fn synth_write_splits_files() {
        let dir = honyaku_core::testing::tempdir().unwrap();
        let out = dir.path().join("corpus/grammar");
        let config = cfg(SynthTask::Grammar, 120, 3, 12, 9);
        let counts = write_splits(&out, &config, 30, 20).unwrap();
        assert_eq!(
            counts,
            SplitCounts {
                train: 120,
                valid: 30,
                test: 20
            }
        );
        let mut names: Vec<String> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "test.src",
                "test.tgt",
                "train.src",
                "train.tgt",
                "valid.src",
                "valid.tgt"
            ]
        );
        for (split, n) in [("train", 120), ("valid", 30), ("test", 20)] {
            for side in ["src", "tgt"] {
                let text = fs::read_to_string(out.join(format!("{split}.{side}"))).unwrap();
                assert!(text.ends_with('\n'));
                assert_eq!(text.lines().count(), n, "{split}.{side}");
            }
        }
        let train = fs::read_to_string(out.join("train.src")).unwrap();
        let expected: Vec<String> = generate(&config)
            .unwrap()
            .into_iter()
            .map(|p| p.src)
            .collect();
        assert_eq!(train.lines().collect::<Vec<_>>(), expected);
        let valid = fs::read_to_string(out.join("valid.src")).unwrap();
        let test = fs::read_to_string(out.join("test.src")).unwrap();
        assert_ne!(valid, test);
        assert_ne!(
            train.lines().take(20).collect::<Vec<_>>(),
            test.lines().collect::<Vec<_>>()
        );
        // Writing again replaces the files.
        write_splits(&out, &cfg(SynthTask::Copy, 5, 2, 4, 1), 2, 3).unwrap();
        let text = fs::read_to_string(out.join("test.tgt")).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert_eq!(default_heldout(100), 50);
        assert_eq!(default_heldout(20_000), 1000);
        // An unwritable directory names the path.
        let blocker = dir.path().join("file");
        fs::write(&blocker, "x").unwrap();
        let err = write_splits(&blocker.join("sub"), &config, 1, 1).unwrap_err();
        assert!(err.to_string().contains("file"), "{err}");
    }
}
