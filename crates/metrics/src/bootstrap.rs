//! Seeded percentile bootstrap for balanced accuracy.
//!
//! Resampling n rows with replacement only matters through the confusion matrix it produces, and
//! that matrix is Multinomial(n, observed cell frequencies). So each resample draws the cell counts
//! directly (a chain of binomials over the non-empty cells): the same distribution as row
//! resampling at O(cells) per resample instead of O(n).

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Binomial, Distribution};
use serde::Serialize;

use crate::balanced::balanced_accuracy;
use crate::confusion::ConfusionMatrix;
use crate::error::{MetricsError, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    /// Number of resamples (≥ 1).
    pub resamples: usize,
    pub seed: u64,
    /// Two-sided coverage in (0, 1), e.g. 0.95.
    pub confidence: f64,
}

impl BootstrapOptions {
    pub const DEFAULT_CONFIDENCE: f64 = 0.95;

    pub fn validate(&self) -> Result<()> {
        if self.resamples == 0 {
            return Err(MetricsError::bad_input(
                "bootstrap needs at least 1 resample",
            ));
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(MetricsError::bad_input(format!(
                "bootstrap confidence must be in (0, 1), got {}",
                self.confidence
            )));
        }
        Ok(())
    }
}

/// Percentile interval of the resampled balanced accuracies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapInterval {
    pub low: f64,
    pub high: f64,
    pub confidence: f64,
    pub resamples: usize,
    pub seed: u64,
    /// Standard deviation of the resampled scores.
    pub std_error: f64,
}

/// `None` when no resample has a defined score (an empty matrix, or `adjusted` with one class).
pub fn bootstrap_balanced_accuracy(
    matrix: &ConfusionMatrix,
    options: &BootstrapOptions,
    adjusted: bool,
) -> Result<Option<BootstrapInterval>> {
    options.validate()?;
    let n = matrix.total();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut resampled = ConfusionMatrix::new(matrix.num_classes());
    let mut scores = Vec::with_capacity(options.resamples);
    for _ in 0..options.resamples {
        draw_multinomial(matrix.counts(), n, resampled.counts_mut(), &mut rng)?;
        if let Some(score) = balanced_accuracy(&resampled, adjusted) {
            scores.push(score);
        }
    }
    if scores.is_empty() {
        return Ok(None);
    }
    scores.sort_by(f64::total_cmp);
    let tail = (1.0 - options.confidence) / 2.0;
    Ok(Some(BootstrapInterval {
        low: quantile_sorted(&scores, tail),
        high: quantile_sorted(&scores, 1.0 - tail),
        confidence: options.confidence,
        resamples: options.resamples,
        seed: options.seed,
        std_error: std_dev(&scores),
    }))
}

/// Writes into `out` one draw of Multinomial(`n`, `weights / sum(weights)`).
fn draw_multinomial(weights: &[u64], n: u64, out: &mut [u64], rng: &mut StdRng) -> Result<()> {
    let mut remaining_draws = n;
    let mut remaining_weight: u64 = weights.iter().sum();
    for (slot, &weight) in out.iter_mut().zip(weights) {
        *slot = 0;
        if weight == 0 || remaining_draws == 0 {
            continue;
        }
        let p = weight as f64 / remaining_weight as f64;
        *slot = if p >= 1.0 {
            remaining_draws
        } else {
            Binomial::new(remaining_draws, p)
                .map_err(|e| MetricsError::bad_input(format!("bootstrap: {e}")))?
                .sample(rng)
        };
        remaining_draws -= *slot;
        remaining_weight -= weight;
    }
    Ok(())
}

/// Linear interpolation between order statistics (numpy's default `quantile` method).
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let position = (sorted.len() - 1) as f64 * q;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    sorted[below] + fraction * (sorted[above] - sorted[below])
}

fn std_dev(values: &[f64]) -> f64 {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
    variance.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn options(resamples: usize, seed: u64) -> BootstrapOptions {
        BootstrapOptions {
            resamples,
            seed,
            confidence: 0.95,
        }
    }

    fn sample_matrix() -> ConfusionMatrix {
        // 200 rows: class 0 recall 0.7 (with 5 unknown), class 1 recall 0.9
        ConfusionMatrix::from_counts(2, vec![70, 25, 5, 10, 90, 0]).unwrap()
    }

    #[test]
    fn quantile_matches_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.0), 1.0);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
        // numpy.quantile([1,2,3,4], 0.25) == 1.75
        assert!((quantile_sorted(&v, 0.25) - 1.75).abs() < 1e-15);
        assert_eq!(quantile_sorted(&[5.0], 0.3), 5.0);
    }

    #[test]
    fn same_seed_same_interval_and_draws_keep_n() {
        let m = sample_matrix();
        let a = bootstrap_balanced_accuracy(&m, &options(500, 7), false).unwrap();
        let b = bootstrap_balanced_accuracy(&m, &options(500, 7), false).unwrap();
        assert_eq!(a, b);
        let c = bootstrap_balanced_accuracy(&m, &options(500, 8), false).unwrap();
        assert_ne!(a, c);
        let mut rng = StdRng::seed_from_u64(1);
        let mut out = vec![0; 6];
        draw_multinomial(m.counts(), 200, &mut out, &mut rng).unwrap();
        assert_eq!(out.iter().sum::<u64>(), 200);
        assert_eq!(out[5], 0, "empty cells stay empty");
    }

    #[test]
    fn interval_brackets_the_estimate() {
        let m = sample_matrix();
        let ba = balanced_accuracy(&m, false).unwrap(); // 0.8
        let ci = bootstrap_balanced_accuracy(&m, &options(2000, 3), false)
            .unwrap()
            .unwrap();
        assert!(ci.low < ba && ba < ci.high, "{ci:?}");
        // binomial standard error of the mean of two recalls ≈ sqrt(.7·.3/100 + .9·.1/100)/2 ≈ 0.0274
        assert!((ci.std_error - 0.0274).abs() < 0.004, "{ci:?}");
    }

    #[test]
    fn perfect_classifier_has_degenerate_interval() {
        let m = ConfusionMatrix::from_counts(2, vec![10, 0, 0, 0, 5, 0]).unwrap();
        let ci = bootstrap_balanced_accuracy(&m, &options(100, 1), false)
            .unwrap()
            .unwrap();
        assert_eq!((ci.low, ci.high, ci.std_error), (1.0, 1.0, 0.0));
    }

    #[test]
    fn matches_row_resampling_distribution() {
        // Naive bootstrap: resample rows, rebuild the matrix. Same distribution, so the same
        // interval up to Monte Carlo error.
        let m = sample_matrix();
        let mut rows = Vec::new();
        for t in 0..2 {
            for p in 0..3 {
                rows.extend(std::iter::repeat_n(
                    (t as u32, p as u32),
                    m.get(t, p) as usize,
                ));
            }
        }
        let mut rng = StdRng::seed_from_u64(11);
        let mut naive = Vec::new();
        for _ in 0..4000 {
            let mut resampled = ConfusionMatrix::new(2);
            for _ in 0..rows.len() {
                let (t, p) = rows[rng.random_range(0..rows.len())];
                resampled.add(t as usize, p as usize);
            }
            naive.push(balanced_accuracy(&resampled, false).unwrap());
        }
        naive.sort_by(f64::total_cmp);
        let ci = bootstrap_balanced_accuracy(&m, &options(4000, 12), false)
            .unwrap()
            .unwrap();
        assert!(
            (ci.low - quantile_sorted(&naive, 0.025)).abs() < 0.01,
            "{ci:?}"
        );
        assert!(
            (ci.high - quantile_sorted(&naive, 0.975)).abs() < 0.01,
            "{ci:?}"
        );
        assert!((ci.std_error - std_dev(&naive)).abs() < 0.003);
    }

    #[test]
    fn rejects_bad_options_and_handles_empty() {
        let m = sample_matrix();
        assert!(bootstrap_balanced_accuracy(&m, &options(0, 1), false).is_err());
        let bad = BootstrapOptions {
            confidence: 1.0,
            ..options(10, 1)
        };
        assert_eq!(
            bootstrap_balanced_accuracy(&m, &bad, false)
                .unwrap_err()
                .code(),
            "E_BAD_INPUT"
        );
        let empty = ConfusionMatrix::new(2);
        assert_eq!(
            bootstrap_balanced_accuracy(&empty, &options(10, 1), false).unwrap(),
            None
        );
    }
}
