//! Which parameters a backward pass reached.

use std::collections::HashSet;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use burn::tensor::Gradients;
use honyaku_core::search::to_host_floats;

/// Every float parameter of a module, by path, with whether its gradient is non-zero.
#[derive(Debug, Default)]
pub struct GradReport {
    /// Paths of every float parameter visited.
    pub seen: Vec<String>,
    /// Paths of the parameters without a gradient or with an all-zero (or non-finite) one.
    pub missing: Vec<String>,
    /// Distinct parameter ids (equal to `seen.len()` unless a parameter is visited twice).
    pub distinct: usize,
}

/// Checks every float parameter of `module` against `grads`.
pub fn grad_report<M: Module>(module: &M, grads: &Gradients) -> GradReport {
    let mut visitor = GradVisitor {
        grads,
        path: Vec::new(),
        ids: HashSet::new(),
        report: GradReport::default(),
    };
    module.visit(&mut visitor);
    let mut report = visitor.report;
    report.distinct = visitor.ids.len();
    report
}

struct GradVisitor<'a> {
    grads: &'a Gradients,
    path: Vec<String>,
    ids: HashSet<ParamId>,
    report: GradReport,
}

impl ModuleVisitor for GradVisitor<'_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let name = self.path.join(".");
        self.ids.insert(param.id);
        let size = param
            .val()
            .grad(self.grads)
            .map(|g| to_host_floats(g.abs().sum())[0]);
        if !size.is_some_and(|s| s > 0.0 && s.is_finite()) {
            self.report.missing.push(name.clone());
        }
        self.report.seen.push(name);
    }
}
