//! Differentiable versions of the fused kernels the inference path uses. Candle's `rms_norm`,
//! `rope` and `softmax_last_dim` are custom ops without a backward pass: a gradient through them
//! is silently lost. These compositions of basic ops record every step.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor, D};

use crate::error::Result;

/// `xs (rows, in) · weightᵀ -> (rows, out)` for a frozen `weight (out, in)`. Candle's matmul
/// backward also computes `xsᵀ · grad`, the weight's gradient (as costly as the forward, and for
/// the LM head a `hidden × vocab` buffer), even when the weight is not a `Var`. Here the product
/// is computed outside the graph and attached to `xs` by an op whose backward returns only the
/// input gradient `grad · weight`.
pub fn frozen_matmul(xs: &Tensor, weight: &Tensor) -> Result<Tensor> {
    let product = xs.detach().matmul(&weight.t()?)?;
    if !xs.track_op() {
        return Ok(product);
    }
    let grad_path = InputGradOnly {
        weight: weight.clone(),
    };
    Ok(xs.apply_op2(&product, grad_path)?)
}

/// `(xs, product) -> product`, with `d xs = grad · weight` and no gradient for the product.
struct InputGradOnly {
    weight: Tensor, // (out, in)
}

/// The product comes fresh from a matmul: contiguous from offset 0, so a clone of its storage is
/// exactly its value.
fn check_fresh(layout: &Layout) -> candle_core::Result<()> {
    if layout.is_contiguous() && layout.start_offset() == 0 {
        Ok(())
    } else {
        candle_core::bail!("frozen_matmul: the product must be contiguous from offset 0")
    }
}

impl CustomOp2 for InputGradOnly {
    fn name(&self) -> &'static str {
        "frozen-matmul"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        product: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        check_fresh(layout)?;
        Ok((product.try_clone(layout)?, layout.shape().clone()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        _: &candle_core::CudaStorage,
        _: &Layout,
        product: &candle_core::CudaStorage,
        layout: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        check_fresh(layout)?;
        Ok((product.try_clone(layout)?, layout.shape().clone()))
    }

    fn bwd(
        &self,
        _: &Tensor,
        _: &Tensor,
        _: &Tensor,
        grad: &Tensor, // (rows, out)
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(grad.matmul(&self.weight)?), None))
    }
}

/// `x / sqrt(mean(x²) + eps) * weight` over the last dim. `(…, hidden)`.
pub fn rms_norm(xs: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let hidden = xs.dim(D::Minus1)? as f64;
    let mean_square = (xs.sqr()?.sum_keepdim(D::Minus1)? / hidden)?; // (…, 1)
    let normed = xs.broadcast_div(&(mean_square + eps)?.sqrt()?)?;
    Ok(normed.broadcast_mul(weight)?)
}

/// Softmax over the last dim. The max is detached: subtracting it only guards `exp` and leaves
/// the result (and so the gradient) unchanged.
pub fn softmax_last_dim(xs: &Tensor) -> Result<Tensor> {
    let max = xs.max_keepdim(D::Minus1)?.detach();
    let exp = xs.broadcast_sub(&max)?.exp()?;
    Ok(exp.broadcast_div(&exp.sum_keepdim(D::Minus1)?)?)
}

/// `log softmax` over the last dim, max detached as above.
pub fn log_softmax_last_dim(xs: &Tensor) -> Result<Tensor> {
    let max = xs.max_keepdim(D::Minus1)?.detach();
    let shifted = xs.broadcast_sub(&max)?;
    let log_sum = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    Ok(shifted.broadcast_sub(&log_sum)?)
}

/// Non-interleaved RoPE (HF `rotate_half`): `x·cos + rotate_half(x)·sin` on `(b, heads, seq, d)`,
/// with `cos`/`sin` of shape `(seq, d / 2)`.
pub fn rope(xs: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let half = xs.dim(D::Minus1)? / 2;
    let cos = Tensor::cat(&[cos, cos], D::Minus1)?; // (seq, d)
    let sin = Tensor::cat(&[sin, sin], D::Minus1)?;
    let first = xs.narrow(D::Minus1, 0, half)?;
    let second = xs.narrow(D::Minus1, half, half)?;
    let rotated = Tensor::cat(&[&second.neg()?, &first], D::Minus1)?;
    Ok((xs.broadcast_mul(&cos)? + rotated.broadcast_mul(&sin)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    fn ramp(shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0)
            .collect();
        Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        crate::qwen2::max_abs_diff(&a.flatten_all().unwrap(), &b.flatten_all().unwrap()).unwrap()
    }

    #[test]
    fn compositions_equal_the_fused_kernels() {
        let xs = ramp(&[2, 3, 4, 8]);
        let weight = ramp(&[8]);
        let fused = candle_nn::ops::rms_norm(&xs, &weight, 1e-6).unwrap();
        assert!(max_diff(&rms_norm(&xs, &weight, 1e-6).unwrap(), &fused) < 1e-5);
        let fused = candle_nn::ops::softmax_last_dim(&xs).unwrap();
        assert!(max_diff(&softmax_last_dim(&xs).unwrap(), &fused) < 1e-6);
        let fused = candle_nn::ops::log_softmax(&xs, D::Minus1).unwrap();
        assert!(max_diff(&log_softmax_last_dim(&xs).unwrap(), &fused) < 1e-5);
        let (cos, sin) = (ramp(&[4, 4]).cos().unwrap(), ramp(&[4, 4]).sin().unwrap());
        let fused = candle_nn::rotary_emb::rope(&xs, &cos, &sin).unwrap();
        assert!(max_diff(&rope(&xs, &cos, &sin).unwrap(), &fused) < 1e-6);
    }

    /// Same value and input gradient as a plain matmul, and no gradient computed for the weight.
    #[test]
    fn the_frozen_matmul_skips_only_the_weight_gradient() {
        let var = candle_core::Var::from_tensor(&ramp(&[3, 8])).unwrap();
        let weight = ramp(&[5, 8]);
        let upstream = ramp(&[3, 5]);
        let run = |ys: Tensor| {
            (ys * &upstream)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap()
        };
        let weight_t = weight.t().unwrap();
        let plain_ys = var.as_tensor().matmul(&weight_t).unwrap();
        let frozen_ys = frozen_matmul(var.as_tensor(), &weight).unwrap();
        assert!(max_diff(&plain_ys, &frozen_ys) < 1e-6);
        let plain = run(plain_ys);
        let frozen = run(frozen_ys);
        let (gp, gf) = (
            plain.get(var.as_tensor()).unwrap(),
            frozen.get(var.as_tensor()).unwrap(),
        );
        assert!(max_diff(gp, gf) < 1e-6);
        assert!(max_diff(gp, &upstream.matmul(&weight).unwrap()) < 1e-6);
        assert!(
            plain.get(&weight_t).is_some(),
            "candle's matmul computes the weight gradient"
        );
        assert!(frozen.get(&weight).is_none());
        // Nothing to attach when nothing upstream trains.
        assert!(!frozen_matmul(&weight, &weight).unwrap().track_op());
    }

    /// The reason this file exists: the fused softmax passes no gradient to its input.
    #[test]
    fn the_composed_softmax_carries_a_gradient() {
        let var = candle_core::Var::from_tensor(&ramp(&[2, 5])).unwrap();
        let weights = ramp(&[2, 5]);
        let loss = (softmax_last_dim(var.as_tensor()).unwrap() * &weights)
            .unwrap()
            .sum_all()
            .unwrap();
        let grad = loss.backward().unwrap();
        let g = grad.get(var.as_tensor()).unwrap();
        let norm: f32 = g.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
        assert!(norm > 1e-6, "gradient norm {norm}");
        assert_eq!(g.dtype(), DType::F32);
    }
}
