//! AdamW with its state in the open (candle_nn's keeps the moments private, so a run could not
//! resume), the learning-rate schedule, and gradient clipping by global norm.

use std::collections::HashMap;

use candle_core::{Tensor, Var};

use crate::error::{InferenceError, Result};

/// PyTorch's `AdamW` hyper-parameters (decoupled weight decay).
#[derive(Debug, Clone, PartialEq)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 2e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// The same update as `candle_nn::AdamW` (and torch): `θ ← θ(1 - lr·λ) - lr·m̂ / (√v̂ + ε)`.
pub struct AdamW {
    vars: Vec<Var>,
    first: Vec<Tensor>,
    second: Vec<Tensor>,
    step: usize,
    pub config: AdamWConfig,
}

impl AdamW {
    pub fn new(vars: Vec<Var>, config: AdamWConfig) -> Result<Self> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        let first = vars.iter().map(zeros).collect::<candle_core::Result<_>>()?;
        let second = vars.iter().map(zeros).collect::<candle_core::Result<_>>()?;
        Ok(Self {
            vars,
            first,
            second,
            step: 0,
            config,
        })
    }

    /// Updates taken so far.
    pub fn steps_taken(&self) -> usize {
        self.step
    }

    /// One update at learning rate `lr`; `grads[i]` belongs to `vars[i]`.
    pub fn step(&mut self, grads: &[Tensor], lr: f64) -> Result<()> {
        if grads.len() != self.vars.len() {
            return Err(InferenceError::Runtime(format!(
                "{} gradients for {} variables",
                grads.len(),
                self.vars.len()
            )));
        }
        self.step += 1;
        let c = &self.config;
        let correct_m = 1.0 / (1.0 - c.beta1.powi(self.step as i32));
        let correct_v = 1.0 / (1.0 - c.beta2.powi(self.step as i32));
        for (i, g) in grads.iter().enumerate() {
            let m = ((&self.first[i] * c.beta1)? + (g * (1.0 - c.beta1))?)?;
            let v = ((&self.second[i] * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let theta = self.vars[i].as_tensor();
            let update = ((&m * correct_m)? / ((&v * correct_v)?.sqrt()? + c.eps)?)?;
            let next = ((theta * (1.0 - lr * c.weight_decay))? - (update * lr)?)?;
            self.vars[i].set(&next)?;
            self.first[i] = m;
            self.second[i] = v;
        }
        Ok(())
    }

    /// Moments as `m.{i}` / `v.{i}`, for a checkpoint.
    pub fn state_tensors(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for i in 0..self.vars.len() {
            out.insert(format!("m.{i}"), self.first[i].clone());
            out.insert(format!("v.{i}"), self.second[i].clone());
        }
        out
    }

    /// Restores what `state_tensors` wrote, after `steps` updates.
    pub fn restore(&mut self, tensors: &HashMap<String, Tensor>, steps: usize) -> Result<()> {
        for i in 0..self.vars.len() {
            let shape = self.vars[i].shape().clone();
            let (dtype, device) = (self.vars[i].dtype(), self.vars[i].device().clone());
            let get = |name: String| -> Result<Tensor> {
                let t = tensors.get(&name).ok_or_else(|| {
                    InferenceError::format(format!("optimizer state: {name} missing"))
                })?;
                if t.shape() != &shape {
                    return Err(InferenceError::format(format!(
                        "optimizer state: {name} has shape {:?}, expected {:?}",
                        t.dims(),
                        shape.dims()
                    )));
                }
                Ok(t.to_dtype(dtype)?.to_device(&device)?)
            };
            self.first[i] = get(format!("m.{i}"))?;
            self.second[i] = get(format!("v.{i}"))?;
        }
        self.step = steps;
        Ok(())
    }
}

/// Linear warm-up to `peak` over `warmup_steps`, then linear decay to 0 at `total_steps` (or
/// constant without one). Step `s` (0-based) of the warm-up uses `peak · (s + 1) / warmup`, so
/// the first update is not wasted at lr 0.
#[derive(Debug, Clone, PartialEq)]
pub struct LrSchedule {
    pub peak: f64,
    pub warmup_steps: usize,
    pub total_steps: Option<usize>,
}

impl LrSchedule {
    pub fn at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.peak * (step + 1) as f64 / self.warmup_steps as f64;
        }
        match self.total_steps {
            Some(total) if total > self.warmup_steps => {
                let left = total.saturating_sub(step) as f64;
                self.peak * left / (total - self.warmup_steps) as f64
            }
            _ => self.peak,
        }
    }
}

/// √Σ‖g‖² over all gradients.
pub fn global_norm(grads: &[Tensor]) -> Result<f64> {
    let mut total = 0.0;
    for g in grads {
        total += g
            .sqr()?
            .sum_all()?
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?;
    }
    Ok(total.sqrt())
}

/// Scales all gradients by `max_norm / norm` when the global norm exceeds `max_norm` (torch's
/// `clip_grad_norm_`); returns the norm before clipping.
pub fn clip_global_norm(grads: &mut [Tensor], max_norm: f64) -> Result<f64> {
    let norm = global_norm(grads)?;
    let factor = max_norm / (norm + 1e-6);
    if factor < 1.0 {
        for g in grads.iter_mut() {
            *g = (&*g * factor)?;
        }
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use candle_nn::Optimizer;

    /// Same trajectory as candle_nn's AdamW on a quadratic, so the update is the standard one.
    #[test]
    fn matches_candle_nn_adamw() {
        let start = Tensor::new(&[1.5f32, -2.0, 0.25], &Device::Cpu).unwrap();
        let ours_var = Var::from_tensor(&start).unwrap();
        let theirs_var = Var::from_tensor(&start).unwrap();
        let config = AdamWConfig {
            lr: 0.1,
            weight_decay: 0.01,
            ..Default::default()
        };
        let mut ours = AdamW::new(vec![ours_var.clone()], config.clone()).unwrap();
        let params = candle_nn::ParamsAdamW {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        };
        let mut theirs = candle_nn::AdamW::new(vec![theirs_var.clone()], params).unwrap();
        for _ in 0..5 {
            let loss = ours_var.as_tensor().sqr().unwrap().sum_all().unwrap();
            let g = loss.backward().unwrap().get(&ours_var).unwrap().clone();
            ours.step(&[g], 0.1).unwrap();
            let loss = theirs_var.as_tensor().sqr().unwrap().sum_all().unwrap();
            theirs.backward_step(&loss).unwrap();
        }
        let a: Vec<f32> = ours_var.as_tensor().to_vec1().unwrap();
        let b: Vec<f32> = theirs_var.as_tensor().to_vec1().unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
        }
        assert!(a[0].abs() < 1.5, "moved towards the minimum");
    }

    #[test]
    fn schedule_warms_up_then_decays_linearly() {
        let s = LrSchedule {
            peak: 1.0,
            warmup_steps: 4,
            total_steps: Some(12),
        };
        let lrs: Vec<f64> = [0, 1, 3, 4, 8, 12].iter().map(|&t| s.at(t)).collect();
        assert_eq!(lrs, vec![0.25, 0.5, 1.0, 1.0, 0.5, 0.0]);
    }

    #[test]
    fn clipping_rescales_to_the_max_norm() {
        let mut grads = vec![
            Tensor::new(&[3f32, 0.0], &Device::Cpu).unwrap(),
            Tensor::new(&[4f32], &Device::Cpu).unwrap(),
        ];
        let before = clip_global_norm(&mut grads, 1.0).unwrap();
        assert!((before - 5.0).abs() < 1e-9);
        assert!((global_norm(&grads).unwrap() - 1.0).abs() < 1e-5);
        let untouched = clip_global_norm(&mut grads, 10.0).unwrap();
        assert!((untouched - 1.0).abs() < 1e-5);
    }
}
