//! Length-targeted generation of grammar sentences: a sentence skeleton grown by random edits
//! until it has exactly the requested number of words.

use rand::Rng;
use rand::rngs::StdRng;

use super::tree::*;
use super::words::*;

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
pub(super) fn build_sentence(rng: &mut StdRng, target: usize) -> Tree {
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
