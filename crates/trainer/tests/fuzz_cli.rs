//! A fuzzer over the command line: property tests that build argument vectors for every
//! command (valid and invalid values of every option, options left out or repeated, unknown
//! options and stray words) over input files of every kind (empty, one huge line, binary bytes,
//! mixed encodings, thousands of one-word pairs, CRLF with a byte order mark, TSV, gzip cut
//! short, configs good and bad), run the binary against a tiny trained run, and check:
//!
//! * no exit status 101 (a Rust panic) or 70 (a panic caught by the last-resort hook), no
//!   death by a signal (an abort), no `panicked` or `internal error` on stderr;
//! * every failure prints a line starting with `error: `;
//! * no file is left half-written: no temporary file or commit journal anywhere below the case's
//!   directory or the shared run, and the shared run is unchanged.
//!
//! 32 cases by default (a few seconds to a minute on two cores); `PROPTEST_CASES=N` for a long
//! run, `HONYAKU_FUZZ_LOG=FILE` to record every case (see docs/ERRORS.md).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use common::*;
use proptest::prelude::*;

/// The files every case may use, made once.
struct World {
    root: PathBuf,
    run: PathBuf,
}

/// The world's directory: a static is never dropped, so it lives under cargo's temporary
/// directory for tests (in the target directory, not the system's `/tmp`), and each run
/// removes the worlds earlier runs left there.
fn world_dir() -> PathBuf {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz_cli");
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = base.join(format!("world-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let root = world_dir();
        let run = tiny_run(&root);
        let files = root.join("files");
        std::fs::create_dir_all(&files).unwrap();
        let put = |name: &str, bytes: &[u8]| std::fs::write(files.join(name), bytes).unwrap();
        put("empty.txt", b"");
        put("huge_line.txt", "x y z ".repeat(40_000).as_bytes());
        let binary: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        put("binary.bin", &binary);
        put(
            "mixed.txt",
            b"caf\xc3\xa9 au lait\ncaf\xe9 au lait\n\x93\xfa\x96\x7b\x8c\xea\nplain\n",
        );
        put("one_word.txt", "a\n".repeat(3000).as_bytes());
        put("crlf_bom.txt", "\u{feff}a b c\r\nd e f\r\n".as_bytes());
        put("three.txt", b"a b c\nd e f\ng h\n");
        put("pairs.tsv", "a b\tc d\ne f\tg h\n".repeat(50).as_bytes());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all("one two three\n".repeat(500).as_bytes())
            .unwrap();
        let gz = gz.finish().unwrap();
        put("cut.gz", &gz[..gz.len() / 2]);
        put("good.json", br#"{"train": {"lr": 0.01}}"#);
        put("junk.json", b"{\"train\": ");
        put("long_limit.json", br#"{"data": {"max_len": 300}}"#);
        put(
            "zero_layers.json",
            br#"{"model": {"arch": "lstm", "d_embed": 8, "d_hidden": 8, "n_layers": 0, "dropout": 0.0, "src_vocab": 1, "tgt_vocab": 1}}"#,
        );
        World { root, run }
    })
}

/// Reads choices from the generated numbers.
struct Picker {
    nums: Vec<u32>,
    at: usize,
}

impl Picker {
    fn next(&mut self) -> u32 {
        let n = self.nums[self.at % self.nums.len()];
        self.at += 1;
        n
    }

    fn pick<'a>(&mut self, pool: &[&'a str]) -> &'a str {
        pool[self.next() as usize % pool.len()]
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.next() % 100 < percent
    }
}

/// Input files (and paths that are not files) for any file option.
const FILES: &[&str] = &[
    "{C}/train.src",
    "{C}/train.tgt",
    "{C}/valid.src",
    "{C}/valid.tgt",
    "{C}/test.src",
    "{F}/empty.txt",
    "{F}/huge_line.txt",
    "{F}/binary.bin",
    "{F}/mixed.txt",
    "{F}/one_word.txt",
    "{F}/crlf_bom.txt",
    "{F}/three.txt",
    "{F}/cut.gz",
    "{F}",
    "{F}/missing.txt",
];
const COUNTS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "1.5",
    "",
    "abc",
    "4294967296",
    "99999999999999999999999",
];
const SMALL: &[&str] = &["1", "2", "0", "-1", "x", "", "18446744073709551616"];
const FLOATS: &[&str] = &[
    "0", "0.1", "0.5", "1", "-0.1", "1e-3", "nan", "inf", "-inf", "1e400", "x", "",
];
const BEAMS: &[&str] = &["1", "2", "5", "40", "200", "1024", "1025", "0", "-3", "x"];
const TOKENS: &[&str] = &["1", "8", "64", "4096", "0", "16777217", "-5", "x"];
const BACKENDS: &[&str] = &["flex", "ndarray", "cuda", ""];
const ARCHS: &[&str] = &["lstm", "attention", "transformer", "gru", ""];
const CELLS: &[&str] = &["lstm", "gru", "rnn", ""];
const RUNS: &[&str] = &["{RUN}", "{F}", "{F}/three.txt", "{CASE}/nowhere", "{COPY}"];
/// Runs for commands that write into the run (`average`, `train --resume`): never the shared one.
const RW_RUNS: &[&str] = &["{COPY}", "{F}", "{F}/three.txt", "{CASE}/nowhere"];
const OUTS: &[&str] = &[
    "{CASE}/out",
    "{CASE}/out/deeper",
    "{F}/three.txt",
    "/proc/nope/x",
];

/// One option: its flag and its values (`""` as a value is an empty argument).
type Opt = (&'static str, &'static [&'static str]);

fn translate_opts() -> Vec<Opt> {
    vec![
        ("--run", RUNS),
        ("--input", FILES),
        ("--output", OUTS),
        ("--beam", BEAMS),
        ("--nbest", BEAMS),
        ("--alpha", FLOATS),
        ("--max-tokens", TOKENS),
        ("--backend", BACKENDS),
    ]
}

fn train_opts() -> Vec<Opt> {
    vec![
        ("--train-src", FILES),
        ("--train-tgt", FILES),
        ("--valid-src", FILES),
        ("--valid-tgt", FILES),
        (
            "--train-tsv",
            &["{F}/pairs.tsv", "{F}/binary.bin", "{F}/three.txt"],
        ),
        ("--src-col", &["1", "2", "3", "0", "1001"]),
        ("--tgt-col", &["1", "2", "3", "0"]),
        ("--out", OUTS),
        ("--resume", RW_RUNS),
        ("--arch", ARCHS),
        (
            "--attention",
            &["bahdanau", "luong-dot", "luong-general", "x"],
        ),
        ("--cell", CELLS),
        ("--preset", &["tiny", "huge"]),
        (
            "--config",
            &[
                "{F}/good.json",
                "{F}/junk.json",
                "{F}/long_limit.json",
                "{F}/zero_layers.json",
                "{F}/binary.bin",
            ],
        ),
        ("--max-steps", SMALL),
        ("--epochs", &["1", "0", "-1", "1000001"]),
        ("--max-tokens", TOKENS),
        ("--lr", FLOATS),
        ("--schedule", &["constant", "inverse-sqrt", "plateau", "x"]),
        ("--warmup", COUNTS),
        ("--label-smoothing", FLOATS),
        ("--seed", &["0", "18446744073709551615", "-1"]),
        ("--vocab-size", &["5", "50", "200", "4", "0", "1000001"]),
        ("--subword", &["bpe", "unigram", "x"]),
        ("--max-minutes", FLOATS),
        ("--valid-every", SMALL),
        ("--early-stop-metric", &["bleu", "chrf", "loss", "x"]),
        ("--patience", SMALL),
        ("--save-every", SMALL),
        ("--clip-norm", FLOATS),
        ("--accum", &["1", "2", "0", "65537"]),
        ("--keep-checkpoints", &["0", "1", "3", "-1"]),
        ("--devices", &["1", "2", "0", "257"]),
        ("--cpu-shards", &["0", "1", "3", "257", "-1"]),
        ("--optimizer", &["adam", "adamw", "sgd"]),
        ("--weight-decay", FLOATS),
        ("--plateau-factor", FLOATS),
        ("--plateau-patience", SMALL),
    ]
}

fn evaluate_opts() -> Vec<Opt> {
    vec![
        ("--hyp", FILES),
        ("--hyp", FILES),
        ("--ref", FILES),
        ("--src", FILES),
        ("--run", RUNS),
        ("--tokenize", &["13a", "intl", "char", "none", "x"]),
        ("--metrics", &["bleu", "chrf", "bleu,chrf", "ter"]),
        ("--beam", BEAMS),
        ("--alpha", FLOATS),
        ("--max-tokens", TOKENS),
        ("--output", OUTS),
        ("--backend", BACKENDS),
    ]
}

fn synth_opts() -> Vec<Opt> {
    vec![
        ("--task", &["copy", "reverse", "grammar", "x"]),
        ("--pairs", &["1", "10", "50", "0", "-1", "100000001"]),
        ("--min-len", &["1", "3", "8", "0", "10001"]),
        ("--max-len", &["1", "3", "8", "0", "10001"]),
        ("--seed", &["1", "-1"]),
        ("--out", OUTS),
    ]
}

fn average_opts() -> Vec<Opt> {
    vec![("--run", RW_RUNS), ("--last", SMALL)]
}

fn attention_opts() -> Vec<Opt> {
    vec![
        ("--run", RUNS),
        ("--text", &["a b c", "", "\u{feff}\u{7}x", "{HUGE}"]),
        (
            "--out",
            &["{CASE}/a.png", "{CASE}/a.svg", "{F}", "/proc/nope/a.png"],
        ),
        ("--backend", BACKENDS),
    ]
}

fn bench_opts() -> Vec<Opt> {
    vec![
        ("--arch", ARCHS),
        ("--cell", CELLS),
        ("--preset", &["tiny", "x"]),
        ("--batch", &["1", "2", "0", "65537"]),
        ("--src-len", &["2", "4", "1", "65537", "300"]),
        ("--tgt-len", &["2", "4", "1", "300"]),
        ("--vocab", &["5", "50", "4", "1000001"]),
        ("--steps", &["1", "0"]),
        ("--warmup", &["0", "1", "-1"]),
        ("--decode-len", &["1", "4", "0", "300"]),
        ("--beam", BEAMS),
        ("--cpu-shards", &["0", "1", "2", "257"]),
        ("--backend", BACKENDS),
    ]
}

fn compare_opts() -> Vec<Opt> {
    vec![
        ("--archs", &["lstm", "lstm,attention", "gru", ""]),
        ("--train-src", FILES),
        ("--train-tgt", FILES),
        ("--valid-src", FILES),
        ("--valid-tgt", FILES),
        ("--test-src", FILES),
        ("--test-tgt", FILES),
        ("--out", OUTS),
        ("--epochs", &["1", "0", "-1"]),
        ("--budget-minutes", FLOATS),
        ("--preset", &["tiny", "x"]),
        ("--lang", &["en", "ja", "fr"]),
        ("--vocab-size", &["50", "4", "0"]),
        ("--max-tokens", TOKENS),
        ("--valid-every", SMALL),
        ("--lr", FLOATS),
    ]
}

/// `study` always ends with `--dry-run` (a study trains for minutes): the parser, the corpus
/// checks, the plan, the estimate and the refusal of a budget too small are what it reaches.
fn study_opts() -> Vec<Opt> {
    vec![
        (
            "--archs",
            &["lstm", "lstm,attention,transformer", "gru", "", "lstm,lstm"],
        ),
        ("--train-src", FILES),
        ("--train-tgt", FILES),
        ("--test-src", FILES),
        ("--test-tgt", FILES),
        ("--out", OUTS),
        (
            "--budget-hours",
            &["2", "0.001", "0", "-1", "nan", "inf", "1e300"],
        ),
        ("--preset", &["tiny", "mini", "base", "x"]),
        (
            "--data-sizes",
            &["10", "10,20", "0", "", "x", "18446744073709551616"],
        ),
        ("--seeds", &["1", "2", "0", "1000001"]),
        ("--knobs", &["cell", "layers,heads,hidden", "x", ""]),
        ("--lengths", &["8", "8,16", "0", "100000", "x"]),
        ("--lang", &["en", "ja", "fr"]),
        ("--vocab-size", &["50", "4", "0"]),
        ("--max-tokens", TOKENS),
        ("--valid-every", SMALL),
        ("--backend", BACKENDS),
        ("--quick", &[]),
        ("--no-sweep", &[]),
    ]
}

/// `demo` always gets at least one invalid value (a valid demo trains for minutes).
fn demo_opts() -> Vec<Opt> {
    vec![
        ("--out", OUTS),
        ("--pairs", &["0", "-1", "100000001", "x"]),
        ("--max-len", &["0", "2", "10001", "x"]),
        ("--preset", &["x", "tiny"]),
        ("--minutes-per-arch", &["0", "nan", "-1", "inf", "1e8"]),
        ("--valid-every", &["0", "-1", "x"]),
        ("--lang", &["fr", "en"]),
    ]
}

/// The corpus arguments `compare` and `study` share.
const CORPUS: &[&str] = &[
    "--archs",
    "lstm",
    "--train-src",
    "{C}/train.src",
    "--train-tgt",
    "{C}/train.tgt",
    "--valid-src",
    "{C}/valid.src",
    "--valid-tgt",
    "{C}/valid.tgt",
    "--test-src",
    "{C}/test.src",
    "--test-tgt",
    "{C}/test.tgt",
];

/// Options every valid invocation of a command needs, so that most cases get past the parser
/// and run: the values a case starts from before the picked ones are added.
fn base(command: &str) -> Vec<&'static str> {
    match command {
        "translate" => vec!["--run", "{RUN}", "--input", "{C}/test.src"],
        "train" => vec![
            "--train-src",
            "{C}/train.src",
            "--train-tgt",
            "{C}/train.tgt",
            "--out",
            "{CASE}/run",
            "--preset",
            "tiny",
            "--max-steps",
            "1",
            "--vocab-size",
            "60",
            "--quiet",
        ],
        "evaluate" => vec!["--ref", "{C}/test.tgt", "--hyp", "{C}/test.src"],
        "synth" => vec!["--task", "copy", "--pairs", "10", "--out", "{CASE}/synth"],
        "average" => vec!["--run", "{COPY}"],
        "attention" => vec!["--run", "{RUN}", "--text", "a b", "--out", "{CASE}/a.png"],
        "bench" => vec![
            "--preset",
            "tiny",
            "--batch",
            "2",
            "--src-len",
            "4",
            "--tgt-len",
            "4",
            "--vocab",
            "20",
            "--steps",
            "1",
            "--warmup",
            "0",
            "--decode-len",
            "2",
            "--beam",
            "2",
        ],
        "compare" => [
            CORPUS,
            &[
                "--out",
                "{CASE}/cmp",
                "--epochs",
                "1",
                "--preset",
                "tiny",
                "--vocab-size",
                "60",
            ],
        ]
        .concat(),
        "study" => [
            CORPUS,
            &[
                "--out",
                "{CASE}/study",
                "--preset",
                "tiny",
                "--budget-hours",
                "0.05",
            ],
        ]
        .concat(),
        _ => vec![],
    }
}

const COMMANDS: &[&str] = &[
    "translate",
    "translate",
    "train",
    "train",
    "evaluate",
    "synth",
    "average",
    "attention",
    "bench",
    "compare",
    "study",
    "demo",
    "",
];

fn options(command: &str) -> Vec<Opt> {
    match command {
        "translate" => translate_opts(),
        "train" => train_opts(),
        "evaluate" => evaluate_opts(),
        "synth" => synth_opts(),
        "average" => average_opts(),
        "attention" => attention_opts(),
        "bench" => bench_opts(),
        "compare" => compare_opts(),
        "study" => study_opts(),
        "demo" => demo_opts(),
        _ => vec![],
    }
}

/// The argument vector of one case: the command's base arguments (each left out with a small
/// chance), then up to three picked options (a flag given already mostly gets the new value,
/// sometimes it is repeated), sometimes an unknown flag, a stray word or `--help`.
fn build(command: &str, p: &mut Picker) -> Vec<String> {
    let mut args: Vec<String> = vec![];
    if !command.is_empty() {
        args.push(command.to_string());
    }
    let base = base(command);
    for pair in base.chunks(2) {
        if p.chance(6) {
            continue;
        }
        args.extend(pair.iter().map(|s| s.to_string()));
    }
    let opts = options(command);
    let picks = if command == "demo" {
        1 + p.next() % 4
    } else {
        p.next() % 4
    };
    for _ in 0..if opts.is_empty() { 0 } else { picks } {
        let (flag, pool) = opts[p.next() as usize % opts.len()];
        if pool.is_empty() {
            args.push(flag.to_string()); // a switch: no value
            continue;
        }
        let value = p.pick(pool).to_string();
        // Mostly a new value for a flag already given (a repeat is an error case of its own).
        match args.iter().position(|a| a == flag) {
            Some(at) if at + 1 < args.len() && !p.chance(10) => args[at + 1] = value,
            _ => args.extend([flag.to_string(), value]),
        }
    }
    if command == "demo" {
        args.extend(["--pairs".to_string(), "0".to_string()]);
    }
    if command == "study" {
        args.push("--dry-run".into());
    }
    if p.chance(5) {
        args.push("--bogus".into());
    }
    if p.chance(5) {
        args.push("stray".into());
    }
    if p.chance(5) {
        args.push("--help".into());
    }
    args
}

/// Replaces the placeholders of `args` with this case's paths.
fn resolve(args: &[String], case: &Path) -> Vec<String> {
    let w = world();
    let copy = case.join("copy");
    if args.iter().any(|a| a.contains("{COPY}")) && !copy.exists() {
        copy_dir(&w.run, &copy);
    }
    let corpus = w.root.join("corpus");
    let files = w.root.join("files");
    args.iter()
        .map(|a| {
            if a == "{HUGE}" {
                return "w ".repeat(20_000);
            }
            a.replace("{RUN}", w.run.to_str().unwrap())
                .replace("{COPY}", copy.to_str().unwrap())
                .replace("{CASE}", case.to_str().unwrap())
                .replace("{C}", corpus.to_str().unwrap())
                .replace("{F}", files.to_str().unwrap())
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file below `dir` with its size and modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(snapshot(&path));
            } else if let Ok(meta) = entry.metadata() {
                out.push((path, meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    out
}

/// Files a write left behind: temporary files and commit journals.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_iter()
        .map(|(p, _, _)| p)
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".tmp") || name == ".commit.json"
        })
        .collect()
}

/// Runs the binary with a time limit (a hang is a finding too).
fn run_case(args: &[String]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_honyaku"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut text).unwrap();
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(300) {
            child.kill().unwrap();
            panic!("honyaku {args:?} ran for 300 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    (status.code(), text)
}

/// With `HONYAKU_FUZZ_LOG=FILE`, appends each case (arguments, exit status, first error line)
/// to FILE as a JSON line: the record of a long run.
fn log_case(args: &[String], code: Option<i32>, err: &str) {
    if let Some(path) = std::env::var_os("HONYAKU_FUZZ_LOG") {
        let first = err.lines().find(|l| l.starts_with("error: ")).unwrap_or("");
        let line = serde_json::json!({ "args": args, "code": code, "error": first });
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(file, "{line}").unwrap();
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_argument_vector_panics_or_leaves_a_half_written_file(
        command in prop::sample::select(COMMANDS.to_vec()),
        nums in prop::collection::vec(any::<u32>(), 40),
    ) {
        let w = world();
        let before = snapshot(&w.run);
        let case = honyaku_conformance::tempdir().unwrap();
        let mut picker = Picker { nums, at: 0 };
        let args = resolve(&build(command, &mut picker), case.path());
        let shown: Vec<String> = args.iter().map(|a| {
            if a.len() > 80 { format!("{}… ({} bytes)", &a[..40], a.len()) } else { a.clone() }
        }).collect();
        let (code, err) = run_case(&args);
        log_case(&shown, code, &err);
        prop_assert!(code.is_some(), "killed by a signal: {shown:?}\n{err}");
        prop_assert!(code != Some(101) && code != Some(70), "{shown:?} exited {code:?}:\n{err}");
        prop_assert!(
            !err.contains("panicked") && !err.contains("internal error") && !err.contains("RUST_BACKTRACE"),
            "{shown:?}:\n{err}"
        );
        if code != Some(0) {
            prop_assert!(err.lines().any(|l| l.starts_with("error: ")), "{shown:?} exited {code:?} without an error line:\n{err}");
        }
        let left = leftovers(case.path());
        prop_assert!(left.is_empty(), "{shown:?} left {left:?}");
        prop_assert!(leftovers(&w.run).is_empty());
        prop_assert_eq!(before, snapshot(&w.run), "{:?} changed the shared run", shown);
    }
}
