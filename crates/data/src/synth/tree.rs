//! Sentence trees (arena indices) and their rendering: English-like SVO, Japanese-like SOV.

use super::words::*;

pub(super) type NpId = usize;
pub(super) type VpId = usize;

#[derive(Debug, Clone)]
pub(super) struct Np {
    pub(super) noun: usize,
    pub(super) plural: bool,
    pub(super) det: Option<Det>,
    pub(super) adjs: Vec<usize>,
    pub(super) post: Post,
}

#[derive(Debug, Clone)]
pub(super) enum Post {
    None,
    /// "the cat in the house": the phrase's object.
    Pp(Prep, NpId),
    /// Subject-gap relative clause: "the cat that ate the fish".
    SubjRc(VpId),
    /// Object-gap relative clause: "the fish that the cat ate" (the VP has no object).
    ObjRc(NpId, VpId),
}

#[derive(Debug, Clone)]
pub(super) struct Vp {
    pub(super) class: VerbClass,
    pub(super) verb: usize,
    pub(super) past: bool,
    pub(super) adverb: Option<usize>,
    /// Direct object (transitive/ditransitive; `None` = the gap of an object relative clause).
    pub(super) obj: Option<NpId>,
    /// Indirect object ("to ...") of a ditransitive verb.
    pub(super) io: Option<NpId>,
    /// Prepositional phrase of an intransitive verb.
    pub(super) pp: Option<(Prep, NpId)>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Clause {
    pub(super) subj: NpId,
    pub(super) vp: VpId,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Tree {
    pub(super) nps: Vec<Np>,
    pub(super) vps: Vec<Vp>,
    pub(super) clauses: Vec<Clause>,
    /// `conjs[i]` joins `clauses[i]` and `clauses[i + 1]` (right-nested).
    pub(super) conjs: Vec<Conj>,
}

impl Tree {
    pub(super) fn render(&self) -> (Vec<&'static str>, Vec<&'static str>) {
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

    pub(super) fn en_np(&self, id: NpId, out: &mut Vec<&'static str>) {
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

    pub(super) fn en_vp(&self, id: VpId, plural_subject: bool, out: &mut Vec<&'static str>) {
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

    pub(super) fn en_clause(&self, c: Clause, out: &mut Vec<&'static str>) {
        self.en_np(c.subj, out);
        self.en_vp(c.vp, self.nps[c.subj].plural, out);
    }

    /// Clauses `i..` right-nested: "A and REST" → "A soshite REST", "A but REST" →
    /// "A shikashi REST", "A because REST" → "REST node A".
    pub(super) fn ja_clauses(&self, i: usize, out: &mut Vec<&'static str>) {
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

    pub(super) fn ja_clause(&self, c: Clause, out: &mut Vec<&'static str>) {
        self.ja_np(c.subj, out);
        out.push("wa");
        self.ja_vp(c.vp, out);
    }

    pub(super) fn ja_np(&self, id: NpId, out: &mut Vec<&'static str>) {
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

    pub(super) fn ja_vp(&self, id: VpId, out: &mut Vec<&'static str>) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
