//! Scores from a confusion matrix, with scikit-learn's semantics:
//! - accuracy: correct / n (unknown predictions are wrong);
//! - balanced accuracy: mean recall over the classes present in the true labels; a class that is
//!   never predicted has recall 0; classes only seen in predictions are ignored;
//!   `adjusted` rescales so chance is 0 and perfect is 1 (`(ba - 1/k) / (1 - 1/k)`);
//! - macro-F1: mean of `2·tp / (support + predicted)` over classes seen in labels or predictions.

use crate::confusion::ConfusionMatrix;

/// `correct / n`, or `None` for an empty matrix.
pub fn accuracy(matrix: &ConfusionMatrix) -> Option<f64> {
    let total = matrix.total();
    (total > 0).then(|| matrix.correct() as f64 / total as f64)
}

/// Recall of each class; `None` for classes absent from the true labels.
pub fn recall_per_class(matrix: &ConfusionMatrix) -> Vec<Option<f64>> {
    (0..matrix.num_classes())
        .map(|class| {
            let support = matrix.true_count(class);
            (support > 0).then(|| matrix.get(class, class) as f64 / support as f64)
        })
        .collect()
}

/// Balanced accuracy (sklearn `balanced_accuracy_score`). `None` when there are no rows, or when
/// `adjusted` is requested with a single true class (chance level 1 leaves it undefined).
pub fn balanced_accuracy(matrix: &ConfusionMatrix, adjusted: bool) -> Option<f64> {
    let recalls: Vec<f64> = recall_per_class(matrix).into_iter().flatten().collect();
    if recalls.is_empty() {
        return None;
    }
    let score = recalls.iter().sum::<f64>() / recalls.len() as f64;
    if !adjusted {
        return Some(score);
    }
    if recalls.len() == 1 {
        return None;
    }
    let chance = 1.0 / recalls.len() as f64;
    Some((score - chance) / (1.0 - chance))
}

/// Macro-averaged F1 over classes present in the labels or the predictions (`unknown` predictions
/// are misses for their true class but not a class of their own). `None` for an empty matrix.
pub fn macro_f1(matrix: &ConfusionMatrix) -> Option<f64> {
    let mut sum = 0.0;
    let mut classes = 0usize;
    for class in 0..matrix.num_classes() {
        let support = matrix.true_count(class);
        let predicted = matrix.predicted_count(class);
        if support + predicted == 0 {
            continue;
        }
        sum += 2.0 * matrix.get(class, class) as f64 / (support + predicted) as f64;
        classes += 1;
    }
    (classes > 0).then(|| sum / classes as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(k: usize, y_true: &[u32], y_pred: &[u32]) -> ConfusionMatrix {
        ConfusionMatrix::from_codes(k, y_true, y_pred).unwrap()
    }

    #[test]
    fn binary_hand_computed() {
        // class 0: 3 rows, 2 right (recall 2/3); class 1: 1 row, right (recall 1)
        let m = matrix(2, &[0, 0, 0, 1], &[0, 0, 1, 1]);
        assert_eq!(accuracy(&m), Some(0.75));
        let ba = balanced_accuracy(&m, false).unwrap();
        assert!((ba - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-15);
        // adjusted: (5/6 - 1/2) / (1/2) = 2/3
        assert!((balanced_accuracy(&m, true).unwrap() - 2.0 / 3.0).abs() < 1e-15);
        // F1 class 0: 2·2/(3+2) = 0.8; class 1: 2·1/(1+2) = 2/3
        assert!((macro_f1(&m).unwrap() - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-15);
    }

    #[test]
    fn never_predicted_class_has_recall_zero() {
        let m = matrix(2, &[0, 1, 1], &[0, 0, 0]);
        assert_eq!(recall_per_class(&m), vec![Some(1.0), Some(0.0)]);
        assert_eq!(balanced_accuracy(&m, false), Some(0.5));
    }

    #[test]
    fn class_absent_from_true_labels_is_ignored() {
        // class 2 exists in the label set and in predictions but never in the truth
        let m = matrix(3, &[0, 0, 1, 1], &[0, 2, 1, 1]);
        assert_eq!(recall_per_class(&m), vec![Some(0.5), Some(1.0), None]);
        assert_eq!(balanced_accuracy(&m, false), Some(0.75));
        // F1: class0 2·1/(2+1)=2/3, class1 2·2/(2+2)=1, class2 0 (predicted once, never right)
        let f1 = macro_f1(&m).unwrap();
        assert!((f1 - (2.0 / 3.0 + 1.0 + 0.0) / 3.0).abs() < 1e-15);
    }

    #[test]
    fn empty_class_in_label_set_changes_nothing() {
        let with_empty = matrix(3, &[0, 1, 1], &[0, 1, 0]);
        let without = matrix(2, &[0, 1, 1], &[0, 1, 0]);
        assert_eq!(
            balanced_accuracy(&with_empty, false),
            balanced_accuracy(&without, false)
        );
        assert_eq!(macro_f1(&with_empty), macro_f1(&without));
    }

    #[test]
    fn unknown_predictions_count_wrong() {
        // k = 2, code 2 = unknown
        let m = matrix(2, &[0, 0, 1, 1], &[2, 0, 2, 2]);
        assert_eq!(accuracy(&m), Some(0.25));
        assert_eq!(balanced_accuracy(&m, false), Some(0.25));
        // F1 class0: 2·1/(2+1); class1: 0/(2+0) = 0
        assert!((macro_f1(&m).unwrap() - (2.0 / 3.0) / 2.0).abs() < 1e-15);
    }

    #[test]
    fn all_unknown_scores_zero() {
        let m = matrix(2, &[0, 1, 1], &[2, 2, 2]);
        assert_eq!(accuracy(&m), Some(0.0));
        assert_eq!(balanced_accuracy(&m, false), Some(0.0));
        assert_eq!(macro_f1(&m), Some(0.0));
    }

    #[test]
    fn one_row() {
        let right = matrix(2, &[1], &[1]);
        assert_eq!(balanced_accuracy(&right, false), Some(1.0));
        assert_eq!(
            balanced_accuracy(&right, true),
            None,
            "single class: chance = 1"
        );
        let wrong = matrix(2, &[1], &[0]);
        assert_eq!(balanced_accuracy(&wrong, false), Some(0.0));
        // F1 over classes {0 (predicted), 1 (true)}: both 0
        assert_eq!(macro_f1(&wrong), Some(0.0));
    }

    #[test]
    fn empty_matrix_has_no_scores() {
        let m = ConfusionMatrix::new(2);
        assert_eq!(accuracy(&m), None);
        assert_eq!(balanced_accuracy(&m, false), None);
        assert_eq!(macro_f1(&m), None);
    }

    #[test]
    fn multiclass_hand_computed() {
        // 3 classes, truth [0,0,1,1,1,2], pred [0,1,1,1,0,2]
        // recalls: 1/2, 2/3, 1 → BA = 13/18; adjusted: (13/18 - 1/3)/(2/3) = 7/12
        let m = matrix(3, &[0, 0, 1, 1, 1, 2], &[0, 1, 1, 1, 0, 2]);
        assert!((balanced_accuracy(&m, false).unwrap() - 13.0 / 18.0).abs() < 1e-15);
        assert!((balanced_accuracy(&m, true).unwrap() - 7.0 / 12.0).abs() < 1e-15);
        assert!((accuracy(&m).unwrap() - 4.0 / 6.0).abs() < 1e-15);
    }
}
