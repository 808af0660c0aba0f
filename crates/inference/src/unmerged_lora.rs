//! A LoRA adapter kept beside a quantized weight: `y = base(x) + scale · (x·Aᵀ)·Bᵀ`. Merging
//! `scale·B·A` into a 4-bit or 8-bit weight would need a dequantize-add-requantize round trip
//! whose rounding swamps a small update; the two extra thin matmuls cost about `2·r/in` of the
//! base matmul.

use candle_core::{DType, Module, Tensor};

use crate::weights::{tensor_bytes, Linear};

/// The factors of one adapted projection, in f32 on the model's device.
#[derive(Debug, Clone)]
pub struct UnmergedLora {
    pub a: Tensor, // (r, in)
    pub b: Tensor, // (out, r)
    pub scale: f64,
}

impl UnmergedLora {
    /// `scale · (x·Aᵀ)·Bᵀ` for `(…, in)`, in `xs`'s dtype.
    pub fn update(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let dims = xs.dims();
        let (lead, inner) = dims.split_at(dims.len() - 1);
        let rows: usize = lead.iter().product();
        let flat = xs.to_dtype(DType::F32)?.reshape((rows, inner[0]))?;
        let low = flat.matmul(&self.a.t()?)?; // (rows, r)
        let ys = (low.matmul(&self.b.t()?)? * self.scale)?; // (rows, out)
        let mut shape = lead.to_vec();
        shape.push(self.b.dim(0)?);
        ys.reshape(shape)?.to_dtype(xs.dtype())
    }

    /// Number of adapter weights.
    pub fn param_count(&self) -> usize {
        self.a.elem_count() + self.b.elem_count()
    }

    /// Bytes of `A` and `B` as stored.
    pub fn resident_bytes(&self) -> usize {
        tensor_bytes(&self.a) + tensor_bytes(&self.b)
    }

    /// `scale · B · A` `(out, in)` in f32: what a merge would add to the weight.
    pub fn delta_weight(&self) -> candle_core::Result<Tensor> {
        self.b.matmul(&self.a)? * self.scale
    }
}

/// `base(x) + update(x)`.
pub(crate) fn adapted_forward(
    base: &Linear,
    lora: &UnmergedLora,
    xs: &Tensor,
) -> candle_core::Result<Tensor> {
    base.forward(xs)? + lora.update(xs)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn update_is_the_scaled_low_rank_product() {
        let lora = UnmergedLora {
            a: Tensor::new(&[[1f32, 2.]], &Device::Cpu).unwrap(), // (1, 2)
            b: Tensor::new(&[[3f32], [4.]], &Device::Cpu).unwrap(), // (2, 1)
            scale: 0.5,
        };
        let xs = Tensor::new(&[[[1f32, 1.]]], &Device::Cpu).unwrap(); // (1, 1, 2)
        let ys: Vec<Vec<Vec<f32>>> = lora.update(&xs).unwrap().to_vec3().unwrap();
        // x·Aᵀ = 3; ·Bᵀ = (9, 12); · 0.5
        assert_eq!(ys, vec![vec![vec![4.5, 6.0]]]);
    }
}
