//! What the text and audio model classes share: the loaded core model behind a lock (one call at
//! a time), the disposed flag, and the tasks that load and dispose it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use napi::bindgen_prelude::*;
use opt_native_inference as core;

use crate::panic::guard_core;

/// The loaded model; `None` once disposed.
pub type SharedModel<T> = Arc<Mutex<Option<T>>>;

/// A core model a JS class holds: how it loads and the class it becomes.
pub trait LoadedModel: Send + Sized + 'static {
    type Options: Send;
    type Class: ToNapiValue + TypeName;

    fn load(path: &Path, options: &Self::Options) -> core::Result<Self>;

    fn into_class(self) -> Self::Class;
}

pub(crate) fn disposed_error() -> Error {
    Error::new(
        Status::GenericFailure,
        "[E_MODEL_DISPOSED] the model was disposed; load it again",
    )
}

/// The model of a JS class and whether `dispose()` was called.
pub struct ModelHolder<T> {
    model: SharedModel<T>,
    disposed: Arc<AtomicBool>,
}

impl<T: Send + 'static> ModelHolder<T> {
    pub(crate) fn new(model: T) -> Self {
        Self {
            model: Arc::new(Mutex::new(Some(model))),
            disposed: Arc::default(),
        }
    }

    pub(crate) fn ensure_live(&self) -> Result<()> {
        if self.disposed.load(Ordering::Relaxed) {
            return Err(disposed_error());
        }
        Ok(())
    }

    /// The model for a task; `[E_MODEL_DISPOSED]` after `dispose()`.
    pub(crate) fn live(&self) -> Result<SharedModel<T>> {
        self.ensure_live()?;
        Ok(self.model.clone())
    }

    /// Marks the class disposed now; the task frees the weights once running calls finish.
    pub(crate) fn dispose(&self) -> AsyncTask<DisposeTask<T>> {
        self.disposed.store(true, Ordering::Relaxed);
        AsyncTask::new(DisposeTask {
            model: self.model.clone(),
        })
    }
}

/// Runs `work` on the model under its lock; a panic becomes `[E_NATIVE_PANIC]` instead of killing Node.
pub(crate) fn with_model<T, O>(
    model: &SharedModel<T>,
    work: impl FnOnce(&mut T) -> core::Result<O>,
) -> Result<O> {
    let mut guard = model.lock().unwrap_or_else(PoisonError::into_inner);
    let loaded = guard.as_mut().ok_or_else(disposed_error)?;
    guard_core(|| work(loaded))
}

pub struct LoadTask<T: LoadedModel> {
    path: String,
    options: T::Options,
}

impl<T: LoadedModel> LoadTask<T> {
    pub(crate) fn new(path: String, options: T::Options) -> Self {
        Self { path, options }
    }
}

impl<T: LoadedModel> Task for LoadTask<T> {
    type Output = T;
    type JsValue = T::Class;

    fn compute(&mut self) -> Result<Self::Output> {
        guard_core(|| T::load(Path::new(&self.path), &self.options))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.into_class())
    }
}

pub struct DisposeTask<T> {
    model: SharedModel<T>,
}

impl<T: Send + 'static> Task for DisposeTask<T> {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<Self::Output> {
        let mut guard = self.model.lock().unwrap_or_else(PoisonError::into_inner);
        drop(guard.take());
        core::memory::release_free_memory();
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: Self::Output) -> Result<Self::JsValue> {
        Ok(())
    }
}
