//! Confusion counts: rows are true classes, columns are predicted classes plus one `unknown` column
//! for predictions that could not be mapped to a class (they always count as wrong).

use crate::error::{MetricsError, Result};

/// A `k × (k + 1)` count matrix; column `k` holds unparseable (`unknown`) predictions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    num_classes: usize,
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    pub fn new(num_classes: usize) -> Self {
        ConfusionMatrix {
            num_classes,
            counts: vec![0; num_classes * (num_classes + 1)],
        }
    }

    /// Builds a matrix from raw counts laid out row-major as `k × (k + 1)`.
    pub fn from_counts(num_classes: usize, counts: Vec<u64>) -> Result<Self> {
        if counts.len() != num_classes * (num_classes + 1) {
            return Err(MetricsError::bad_input(format!(
                "a confusion matrix for {num_classes} classes needs {} counts, got {}",
                num_classes * (num_classes + 1),
                counts.len()
            )));
        }
        Ok(ConfusionMatrix {
            num_classes,
            counts,
        })
    }

    /// Counts label/prediction pairs; a prediction equal to `num_classes` is `unknown`.
    pub fn from_codes(num_classes: usize, y_true: &[u32], y_pred: &[u32]) -> Result<Self> {
        if y_true.len() != y_pred.len() {
            return Err(MetricsError::bad_input(format!(
                "y_true has {} rows but y_pred has {}",
                y_true.len(),
                y_pred.len()
            )));
        }
        let mut matrix = ConfusionMatrix::new(num_classes);
        for (row, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
            check_codes(num_classes, t, p, row)?;
            matrix.add(t as usize, p as usize);
        }
        Ok(matrix)
    }

    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Row-major `k × (k + 1)` counts (last column: unknown predictions).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    pub(crate) fn counts_mut(&mut self) -> &mut [u64] {
        &mut self.counts
    }

    #[inline]
    pub fn add(&mut self, true_class: usize, predicted: usize) {
        self.counts[true_class * (self.num_classes + 1) + predicted] += 1;
    }

    pub fn get(&self, true_class: usize, predicted: usize) -> u64 {
        self.counts[true_class * (self.num_classes + 1) + predicted]
    }

    /// One row (true class) including the trailing unknown count.
    pub fn row(&self, true_class: usize) -> &[u64] {
        let width = self.num_classes + 1;
        &self.counts[true_class * width..(true_class + 1) * width]
    }

    pub fn rows(&self) -> impl Iterator<Item = &[u64]> {
        self.counts.chunks_exact(self.num_classes + 1)
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn correct(&self) -> u64 {
        (0..self.num_classes).map(|c| self.get(c, c)).sum()
    }

    pub fn unknown(&self) -> u64 {
        (0..self.num_classes)
            .map(|c| self.get(c, self.num_classes))
            .sum()
    }

    /// Rows whose true label is `class` (the recall denominator).
    pub fn true_count(&self, class: usize) -> u64 {
        self.row(class).iter().sum()
    }

    /// Rows predicted as `class` (the precision denominator).
    pub fn predicted_count(&self, class: usize) -> u64 {
        (0..self.num_classes).map(|t| self.get(t, class)).sum()
    }

    /// Element-wise sum; both matrices must have the same class count.
    pub fn merge(&mut self, other: &ConfusionMatrix) {
        debug_assert_eq!(self.num_classes, other.num_classes);
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
    }

    /// The counts as nested rows, for reports.
    pub fn to_nested(&self) -> Vec<Vec<u64>> {
        self.rows().map(<[u64]>::to_vec).collect()
    }
}

/// Rejects codes outside `0..num_classes` (true) and `0..=num_classes` (predicted).
#[inline]
pub(crate) fn check_codes(num_classes: usize, t: u32, p: u32, row: usize) -> Result<()> {
    if (t as usize) >= num_classes {
        return Err(MetricsError::bad_input(format!(
            "true class code {t} at row {row} is out of range for {num_classes} classes"
        )));
    }
    if (p as usize) > num_classes {
        return Err(MetricsError::bad_input(format!(
            "predicted class code {p} at row {row} is out of range (0..={num_classes}, {num_classes} = unknown)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pairs_with_unknown_column() {
        // classes 0,1; prediction 2 = unknown
        let m = ConfusionMatrix::from_codes(2, &[0, 0, 1, 1, 1], &[0, 1, 1, 2, 1]).unwrap();
        assert_eq!(m.to_nested(), vec![vec![1, 1, 0], vec![0, 2, 1]]);
        assert_eq!(m.total(), 5);
        assert_eq!(m.correct(), 3);
        assert_eq!(m.unknown(), 1);
        assert_eq!(m.true_count(1), 3);
        assert_eq!(m.predicted_count(1), 3);
    }

    #[test]
    fn rejects_out_of_range_codes_and_length_mismatch() {
        let err = ConfusionMatrix::from_codes(2, &[2], &[0]).unwrap_err();
        assert_eq!(err.code(), "E_BAD_INPUT");
        assert!(err.to_string().contains("row 0"));
        assert!(ConfusionMatrix::from_codes(2, &[0], &[3]).is_err());
        assert!(ConfusionMatrix::from_codes(2, &[0, 1], &[0]).is_err());
        assert!(ConfusionMatrix::from_counts(2, vec![0; 5]).is_err());
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = ConfusionMatrix::from_codes(2, &[0], &[0]).unwrap();
        let b = ConfusionMatrix::from_codes(2, &[0, 1], &[0, 0]).unwrap();
        a.merge(&b);
        assert_eq!(a.to_nested(), vec![vec![2, 0, 0], vec![1, 0, 0]]);
    }
}
