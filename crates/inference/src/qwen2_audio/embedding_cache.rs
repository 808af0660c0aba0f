//! Encoder+projector outputs cached per clip, keyed by a SHA-256 of the 16 kHz samples, so the
//! next prompt on the same clip skips the audio encoder.

use std::collections::{HashMap, VecDeque};

use candle_core::Tensor;
use sha2::{Digest, Sha256};

pub type ClipHash = [u8; 32];

/// Content hash of 16 kHz mono samples (their little-endian bytes).
pub fn clip_hash(samples: &[f32]) -> ClipHash {
    let mut hasher = Sha256::new();
    for s in samples {
        hasher.update(s.to_le_bytes());
    }
    hasher.finalize().into()
}

/// Bounded FIFO cache of `(n_audio_tokens, hidden)` tensors.
#[derive(Debug)]
pub struct AudioEmbeddingCache {
    capacity: usize,
    entries: HashMap<ClipHash, Tensor>,
    order: VecDeque<ClipHash>,
    hits: u64,
    misses: u64,
}

impl AudioEmbeddingCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: HashMap::new(),
            order: VecDeque::new(),
            hits: 0,
            misses: 0,
        }
    }

    /// The cached tensor, counting a hit or a miss.
    pub fn get(&mut self, key: &ClipHash) -> Option<Tensor> {
        let found = self.entries.get(key).cloned();
        if found.is_some() {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        found
    }

    /// Stores a tensor, evicting the oldest entry when full. Capacity 0 disables caching.
    pub fn insert(&mut self, key: ClipHash, embeddings: Tensor) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.insert(key, embeddings).is_none() {
            self.order.push_back(key);
        }
        while self.entries.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `(hits, misses)` since creation.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn hash_depends_on_every_sample() {
        assert_eq!(clip_hash(&[0.1, 0.2]), clip_hash(&[0.1, 0.2]));
        assert_ne!(clip_hash(&[0.1, 0.2]), clip_hash(&[0.1, 0.25]));
        assert_ne!(clip_hash(&[0.1, 0.2]), clip_hash(&[0.1, 0.2, 0.0]));
    }

    #[test]
    fn oldest_entry_is_evicted_and_hits_are_counted() {
        let t = Tensor::zeros(1, candle_core::DType::F32, &Device::Cpu).unwrap();
        let mut cache = AudioEmbeddingCache::new(2);
        let keys = [clip_hash(&[1.0]), clip_hash(&[2.0]), clip_hash(&[3.0])];
        for key in keys {
            cache.insert(key, t.clone());
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&keys[0]).is_none());
        assert!(cache.get(&keys[2]).is_some());
        assert_eq!(cache.stats(), (1, 1));
    }
}
