//! [`Module`] for [`RecurrentLayer`], written out rather than derived: Burn's derive for an
//! enum names each parameter after the variant (`layers.0.Lstm.input.weight`), which would
//! rename every parameter of the LSTM checkpoints written before the GRU existed. Here the
//! enum is transparent: a layer's parameters are named as its cell's (`layers.0.input.weight`),
//! so those checkpoints load unchanged. Each method hands the work to the layer inside.

use burn::module::{
    Content, Devices, Module, ModuleDisplay, ModuleDisplayDefault, ModuleMapper, ModuleVisitor,
};
use burn::prelude::*;

use super::layer::RecurrentLayer;

/// `match` on the layer, binding the cell's layer to `$m` in `$body`; `$wrap` rebuilds the
/// same variant around a returned layer.
macro_rules! each {
    ($layer:expr, |$m:ident| $body:expr) => {
        match $layer {
            RecurrentLayer::Lstm($m) => $body,
            RecurrentLayer::Gru($m) => $body,
        }
    };
    ($layer:expr, wrap |$m:ident| $body:expr) => {
        match $layer {
            RecurrentLayer::Lstm($m) => RecurrentLayer::Lstm($body),
            RecurrentLayer::Gru($m) => RecurrentLayer::Gru($body),
        }
    };
}

impl Module for RecurrentLayer {
    fn num_params(&self) -> usize {
        each!(self, |m| Module::num_params(m))
    }

    fn visit<V: ModuleVisitor>(&self, visitor: &mut V) {
        each!(self, |m| m.visit(visitor))
    }

    fn map<M: ModuleMapper>(self, mapper: &mut M) -> Self {
        each!(self, wrap | m | m.map(mapper))
    }

    fn collect_devices(&self, devices: Devices) -> Devices {
        each!(self, |m| m.collect_devices(devices))
    }

    fn to_device(self, device: &Device) -> Self {
        each!(self, wrap | m | m.to_device(device))
    }

    fn fork(self, device: &Device) -> Self {
        each!(self, wrap | m | m.fork(device))
    }

    fn valid(&self) -> Self {
        each!(self, wrap | m | m.valid())
    }

    fn train(self) -> Self {
        each!(self, wrap | m | m.train())
    }

    fn materialize(self) -> Self {
        each!(self, wrap | m | m.materialize())
    }
}

impl Clone for RecurrentLayer {
    fn clone(&self) -> Self {
        each!(self, wrap | m | m.clone())
    }
}

impl ModuleDisplayDefault for RecurrentLayer {
    fn content(&self, content: Content) -> Option<Content> {
        each!(self, |m| ModuleDisplayDefault::content(m, content))
    }

    fn num_params(&self) -> usize {
        Module::num_params(self)
    }
}

impl ModuleDisplay for RecurrentLayer {}

impl std::fmt::Display for RecurrentLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", ModuleDisplay::format(self, Default::default()))
    }
}

#[cfg(test)]
mod tests {
    use burn::module::ParamId;

    use super::*;
    use crate::recurrent::{Cell, RecurrentLayerConfig};
    use crate::rnn::LstmLayerConfig;

    /// The path of every float parameter, as checkpoints name them.
    #[derive(Default)]
    struct Paths {
        path: Vec<String>,
        found: Vec<String>,
    }

    impl ModuleVisitor for Paths {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_string());
        }

        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }

        fn visit_float<const D: usize>(&mut self, _param: &burn::module::Param<Tensor<D>>) {
            self.found.push(self.path.join("."));
        }
    }

    fn paths<M: Module>(module: &M) -> Vec<String> {
        let mut paths = Paths::default();
        module.visit(&mut paths);
        paths.found
    }

    #[test]
    fn an_lstm_layer_keeps_its_parameter_names_and_count() {
        let device = Device::flex();
        let plain = LstmLayerConfig::new(3, 4).init(&device);
        let wrapped = RecurrentLayer::Lstm(plain.clone());
        assert_eq!(paths(&wrapped), paths(&plain));
        assert_eq!(
            paths(&wrapped),
            ["input.weight", "input.bias", "hidden.weight"]
        );
        assert_eq!(Module::num_params(&wrapped), Module::num_params(&plain));
        // A record of the plain layer loads into the wrapped one.
        let loaded = RecurrentLayer::Lstm(LstmLayerConfig::new(3, 4).init(&device))
            .load_record(plain.clone().into_record());
        let RecurrentLayer::Lstm(loaded) = loaded else {
            panic!("still an LSTM layer");
        };
        assert_eq!(
            loaded.input.weight.val().into_data(),
            plain.input.weight.val().into_data()
        );
    }

    #[test]
    fn a_gru_layer_is_visited_mapped_and_displayed_as_its_cell() {
        let device = Device::flex();
        let gru = RecurrentLayerConfig::new(Cell::Gru, 3, 4).init(&device);
        assert_eq!(
            paths(&gru),
            ["input.weight", "input.bias", "hidden.weight", "hidden.bias"]
        );
        // 3 × 4 input and 4 × 4 hidden weights per gate, two biases per gate.
        assert_eq!(Module::num_params(&gru), 3 * (3 * 4 + 4 * 4 + 2 * 4));
        let ids: Vec<ParamId> = {
            let RecurrentLayer::Gru(inner) = &gru else {
                panic!("a GRU layer");
            };
            vec![inner.input.weight.id, inner.hidden.weight.id]
        };
        let moved = gru.clone().fork(&device);
        let RecurrentLayer::Gru(inner) = &moved else {
            panic!("fork keeps the variant");
        };
        assert_eq!(vec![inner.input.weight.id, inner.hidden.weight.id], ids);
        let shown = gru.to_string();
        assert!(
            shown.contains("input") && shown.contains("hidden"),
            "{shown}"
        );
    }
}
