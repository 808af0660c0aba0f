//! Preallocated key/value cache: new entries are written in place with `slice_set`; the buffer grows
//! in chunks (one copy per chunk, never one per step).

use candle_core::{Device, Tensor};

use crate::error::{InferenceError, Result};

/// Cache growth granularity in positions.
const CHUNK: usize = 256;

/// Keys and values of one layer. Buffers are `(b, kv_heads, capacity, head_dim)`.
#[derive(Debug, Clone, Default)]
pub struct LayerCache {
    keys: Option<Tensor>,
    values: Option<Tensor>,
    len: usize,
}

impl LayerCache {
    /// Positions stored so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `(b, kv_heads, seq, d)` keys/values; returns all stored ones, `(b, kv_heads, len, d)`.
    pub fn append(&mut self, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let (b, heads, seq, d) = k.dims4()?;
        let needed = self.len + seq;
        if self.capacity() < needed || self.batch() != Some(b) {
            self.grow(b, heads, needed, d, k)?;
        }
        let (Some(keys), Some(values)) = (&self.keys, &self.values) else {
            return Err(InferenceError::Runtime(
                "kv cache buffers missing after grow".into(),
            ));
        };
        keys.slice_set(&k.contiguous()?, 2, self.len)?;
        values.slice_set(&v.contiguous()?, 2, self.len)?;
        self.len = needed;
        Ok((keys.narrow(2, 0, self.len)?, values.narrow(2, 0, self.len)?))
    }

    fn capacity(&self) -> usize {
        self.keys.as_ref().map_or(0, |k| k.dims()[2])
    }

    fn batch(&self) -> Option<usize> {
        self.keys.as_ref().map(|k| k.dims()[0])
    }

    /// Allocates a buffer rounded up to `CHUNK` and copies the stored prefix into it.
    fn grow(
        &mut self,
        b: usize,
        heads: usize,
        needed: usize,
        d: usize,
        like: &Tensor,
    ) -> Result<()> {
        let capacity = needed.div_ceil(CHUNK) * CHUNK;
        let keys = Tensor::zeros((b, heads, capacity, d), like.dtype(), like.device())?;
        let values = keys.zeros_like()?;
        if let (Some(old_k), Some(old_v)) = (&self.keys, &self.values) {
            if self.len > 0 && old_k.dims()[0] == b {
                keys.slice_set(&old_k.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
                values.slice_set(&old_v.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
            } else {
                self.len = 0;
            }
        }
        self.keys = Some(keys);
        self.values = Some(values);
        Ok(())
    }

    /// Forgets the stored positions but keeps the buffers for reuse.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Keeps the first `len` positions (a shared prefix); later appends overwrite the rest.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Copies row 0 into `batch` rows (one shared prompt, several continuations).
    pub fn broadcast_row0(&self, batch: usize, device: &Device) -> Result<Self> {
        self.select_rows(&vec![0; batch], device)
    }

    /// A cache whose row `i` is row `rows[i]` of this one (rows may repeat).
    pub fn select_rows(&self, rows: &[u32], device: &Device) -> Result<Self> {
        let ids = Tensor::new(rows, device)?;
        let pick = |t: &Option<Tensor>| -> Result<Option<Tensor>> {
            Ok(match t {
                Some(t) => Some(t.index_select(&ids, 0)?.contiguous()?),
                None => None,
            })
        };
        Ok(Self {
            keys: pick(&self.keys)?,
            values: pick(&self.values)?,
            len: self.len,
        })
    }
}

/// One [`LayerCache`] per decoder layer.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    pub layers: Vec<LayerCache>,
}

impl KvCache {
    pub fn new(num_layers: usize) -> Self {
        Self {
            layers: vec![LayerCache::default(); num_layers],
        }
    }

    /// Positions stored (equal in every layer).
    pub fn len(&self) -> usize {
        self.layers.first().map_or(0, LayerCache::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        self.layers.iter_mut().for_each(LayerCache::clear);
    }

    /// See [`LayerCache::truncate`].
    pub fn truncate(&mut self, len: usize) {
        self.layers.iter_mut().for_each(|layer| layer.truncate(len));
    }

    /// See [`LayerCache::broadcast_row0`].
    pub fn broadcast_row0(&self, batch: usize, device: &Device) -> Result<Self> {
        self.select_rows(&vec![0; batch], device)
    }

    /// See [`LayerCache::select_rows`].
    pub fn select_rows(&self, rows: &[u32], device: &Device) -> Result<Self> {
        let layers = self
            .layers
            .iter()
            .map(|l| l.select_rows(rows, device))
            .collect::<Result<_>>()?;
        Ok(Self { layers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;

    #[test]
    fn appends_in_place_and_grows_across_chunks() {
        let dev = Device::Cpu;
        let mut cache = LayerCache::default();
        let mut expected = Vec::new();
        for step in 0..(CHUNK + 3) {
            let k = Tensor::full(step as f32, (1, 2, 1, 4), &dev).unwrap();
            let (keys, values) = cache.append(&k, &(k.clone() * 2.0).unwrap()).unwrap();
            expected.push(step as f32);
            assert_eq!(keys.dims(), &[1, 2, step + 1, 4]);
            assert_eq!(values.dims(), &[1, 2, step + 1, 4]);
        }
        assert_eq!(cache.capacity(), 2 * CHUNK);
        let (keys, _) = cache
            .append(
                &Tensor::zeros((1, 2, 0, 4), DType::F32, &dev).unwrap(),
                &Tensor::zeros((1, 2, 0, 4), DType::F32, &dev).unwrap(),
            )
            .unwrap();
        let firsts: Vec<f32> = keys
            .narrow(3, 0, 1)
            .unwrap()
            .narrow(1, 0, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(firsts, expected);
    }
}
