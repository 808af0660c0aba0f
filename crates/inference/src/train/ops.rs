//! Differentiable versions of the fused kernels the inference path uses. Candle's `rms_norm`,
//! `rope` and `softmax_last_dim` are custom ops without a backward pass: a gradient through them
//! is silently lost. These compositions of basic ops record every step.

use candle_core::{Tensor, D};

use crate::error::Result;

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
