//! A panic in the native code throws a coded JS error instead of killing Node.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::{Error, Result, Status};
use opt_native_inference as core;

use crate::model::to_napi_error;

/// The message a panic carried: `panic!` payloads are a `&str` or a `String`.
pub(crate) fn panic_detail(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

pub(crate) fn panic_error(payload: Box<dyn Any + Send>) -> Error {
    Error::new(
        Status::GenericFailure,
        format!(
            "[E_NATIVE_PANIC] the native core panicked: {}",
            panic_detail(payload.as_ref())
        ),
    )
}

/// Runs `work`: a core error becomes its coded JS error, a panic `[E_NATIVE_PANIC]`.
pub(crate) fn guard_core<O>(work: impl FnOnce() -> core::Result<O>) -> Result<O> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result.map_err(to_napi_error),
        Err(payload) => Err(panic_error(payload)),
    }
}
