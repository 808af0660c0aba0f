//! Node.js bindings: converts JS values to core types and back; no logic lives here.
#![deny(clippy::all)]

use napi_derive::napi;

mod audio_model;
mod finetune;
mod holder;
mod metrics;
mod model;
mod panic;

/// Runs when Node loads the addon: large per-call buffers are unmapped after each call instead of
/// staying in a worker thread's heap (see `memory::bound_heap_growth`).
#[napi_derive::module_init]
fn init() {
    opt_native_inference::memory::bound_heap_growth();
}

/// Version of the native core, for diagnostics.
#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Whether this addon was built with CUDA (`OPT_NATIVE_FEATURES=cuda`); says nothing of a GPU.
#[napi]
pub fn cuda_available() -> bool {
    opt_native_inference::cuda_available()
}
