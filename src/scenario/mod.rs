//! Scenario files: model, loading and validation.

pub mod load;
pub mod model;

pub use load::{discover, load_file, load_str, LoadError, Scenario};
