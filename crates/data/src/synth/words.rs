//! The word tables: the copy and reverse tokens and the grammar's bilingual lexicon. Every
//! English form maps to exactly one target form.

/// The 40 tokens of the copy and reverse tasks.
pub(super) const COPY_VOCAB: [&str; 40] = [
    "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", //
    "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", //
    "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", //
    "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9",
];

/// Shortest grammar sentence: a bare plural subject, an intransitive verb and ".".
pub(super) const GRAMMAR_MIN_LEN: usize = 3;

pub(super) struct Noun {
    pub(super) sg: &'static str,
    pub(super) pl: &'static str,
    pub(super) ja: &'static str,
    pub(super) animate: bool,
}

pub(super) const fn n(sg: &'static str, pl: &'static str, ja: &'static str, animate: bool) -> Noun {
    Noun {
        sg,
        pl,
        ja,
        animate,
    }
}

/// Nouns; animate ones can be subjects and take the plural marker `tachi` in the target.
pub(super) const NOUNS: [Noun; 61] = [
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
pub(super) const ADJS: [(&str, &[&str]); 27] = [
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
pub(super) const ADVERBS: [(&str, &str); 7] = [
    ("often", "yoku"),
    ("always", "itsumo"),
    ("sometimes", "tokidoki"),
    ("quickly", "hayaku"),
    ("slowly", "yukkuri"),
    ("quietly", "sotto"),
    ("happily", "tanoshiku"),
];

pub(super) struct Verb {
    /// Present, third person singular.
    pub(super) s3: &'static str,
    /// Present, plural.
    pub(super) base: &'static str,
    pub(super) past: &'static str,
    pub(super) ja_present: &'static str,
    pub(super) ja_past: &'static str,
}

pub(super) const fn v(
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
pub(super) const INTRANSITIVE: [Verb; 16] = [
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
pub(super) const TRANSITIVE: [Verb; 23] = [
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
pub(super) const DITRANSITIVE: [Verb; 6] = [
    v("give", "gives", "gave", "ageru", "ageta"),
    v("send", "sends", "sent", "okuru", "okutta"),
    v("show", "shows", "showed", "miseru", "miseta"),
    v("teach", "teaches", "taught", "oshieru", "oshieta"),
    v("lend", "lends", "lent", "kasu", "kashita"),
    v("throw", "throws", "threw", "nageru", "nageta"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VerbClass {
    Intransitive,
    Transitive,
    Ditransitive,
}

impl VerbClass {
    pub(super) fn verbs(self) -> &'static [Verb] {
        match self {
            VerbClass::Intransitive => &INTRANSITIVE,
            VerbClass::Transitive => &TRANSITIVE,
            VerbClass::Ditransitive => &DITRANSITIVE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Det {
    The,
    A,
    This,
    Every,
    Some,
    These,
    Many,
}

impl Det {
    pub(super) const SINGULAR: [(Det, u32); 4] =
        [(Det::The, 4), (Det::A, 3), (Det::This, 1), (Det::Every, 1)];
    pub(super) const PLURAL: [(Det, u32); 4] = [
        (Det::The, 4),
        (Det::Some, 1),
        (Det::These, 1),
        (Det::Many, 1),
    ];

    /// English form; `A` is `a` or `an` depending on the next word.
    pub(super) fn en(self, next: &str) -> &'static str {
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

    pub(super) fn ja(self) -> &'static [&'static str] {
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
pub(super) enum Prep {
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
    pub(super) const NOMINAL: [Prep; 8] = [
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
    pub(super) const VERBAL: [Prep; 7] = [
        Prep::In,
        Prep::On,
        Prep::Under,
        Prep::Near,
        Prep::Behind,
        Prep::With,
        Prep::From,
    ];

    pub(super) fn en(self) -> &'static str {
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
    pub(super) fn object_animate(self) -> Option<bool> {
        match self {
            Prep::With => Some(true),
            Prep::Of => None,
            _ => Some(false),
        }
    }

    /// Postposition after the object when the phrase modifies a noun ("ie no naka no neko").
    pub(super) fn ja_nominal(self) -> &'static [&'static str] {
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
    pub(super) fn ja_verbal(self) -> &'static [&'static str] {
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
pub(super) enum Conj {
    And,
    But,
    Because,
}

impl Conj {
    pub(super) const ALL: [Conj; 3] = [Conj::And, Conj::But, Conj::Because];

    pub(super) fn en(self) -> &'static str {
        match self {
            Conj::And => "and",
            Conj::But => "but",
            Conj::Because => "because",
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// Target forms of all content words, and for each the English forms that map to it.
    pub(in crate::synth) fn content_map() -> HashMap<&'static str, Vec<&'static str>> {
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
}
