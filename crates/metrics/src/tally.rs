//! One pass over coded rows that fills the overall confusion matrix and one matrix per condition
//! value. When the condition values are few, every row bumps a single cell of a joint histogram
//! over (condition values…, true, predicted) that is then marginalized; otherwise each condition
//! column gets its own histogram. Large inputs are split across threads, each with its own counts.

use crate::confusion::{check_codes, ConfusionMatrix};
use crate::error::{MetricsError, Result};

/// A condition column encoded as codes `0..values.len()` (one per row).
#[derive(Debug, Clone, Copy)]
pub struct ConditionCodes<'a> {
    pub name: &'a str,
    pub codes: &'a [u32],
    pub values: &'a [String],
}

/// Rows encoded as class codes: `y_pred == num_classes` means `unknown`.
#[derive(Debug, Clone, Copy)]
pub struct CodedRows<'a> {
    pub num_classes: usize,
    pub y_true: &'a [u32],
    pub y_pred: &'a [u32],
    pub conditions: &'a [ConditionCodes<'a>],
}

/// Confusion matrices for all rows and for each value of each condition column.
#[derive(Debug, Clone, PartialEq)]
pub struct Tallies {
    pub overall: ConfusionMatrix,
    /// `per_condition[column][value]`
    pub per_condition: Vec<Vec<ConfusionMatrix>>,
}

/// Joint histograms up to this many cells stay cache-resident (32 Ki cells × 8 bytes = 256 KiB).
const MAX_JOINT_CELLS: usize = 1 << 15;
/// Below this many rows a second thread costs more than it saves.
const MIN_ROWS_PER_THREAD: usize = 1 << 18;

impl CodedRows<'_> {
    pub fn len(&self) -> usize {
        self.y_true.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y_true.is_empty()
    }

    fn validate_shapes(&self) -> Result<()> {
        let n = self.y_true.len();
        if self.y_pred.len() != n {
            return Err(MetricsError::bad_input(format!(
                "y_true has {n} rows but y_pred has {}",
                self.y_pred.len()
            )));
        }
        for condition in self.conditions {
            if condition.codes.len() != n {
                return Err(MetricsError::bad_input(format!(
                    "condition `{}` has {} rows but the labels have {n}",
                    condition.name,
                    condition.codes.len()
                )));
            }
            if condition.values.len() > u32::MAX as usize {
                return Err(MetricsError::bad_input("too many condition values"));
            }
        }
        Ok(())
    }

    fn check_row(&self, row: usize) -> Result<()> {
        check_codes(self.num_classes, self.y_true[row], self.y_pred[row], row)?;
        for condition in self.conditions {
            let code = condition.codes[row];
            if code as usize >= condition.values.len() {
                return Err(MetricsError::bad_input(format!(
                    "condition `{}` code {code} at row {row} is out of range for {} values",
                    condition.name,
                    condition.values.len()
                )));
            }
        }
        Ok(())
    }
}

/// Counts every row once; errors name the first row with an out-of-range code.
pub fn tally(rows: &CodedRows<'_>) -> Result<Tallies> {
    rows.validate_shapes()?;
    let cells = rows.num_classes * (rows.num_classes + 1);
    let joint_cells = rows
        .conditions
        .iter()
        .try_fold(cells, |acc, c| acc.checked_mul(c.values.len().max(1)));
    match joint_cells {
        Some(joint) if joint <= MAX_JOINT_CELLS => tally_joint(rows, joint),
        _ => tally_per_column(rows),
    }
}

/// Splits `0..n` into contiguous ranges, one per available core, and runs `work` on each.
fn in_parallel<T: Send>(
    n: usize,
    work: impl Fn(std::ops::Range<usize>) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let threads = cores.min(n / MIN_ROWS_PER_THREAD).max(1);
    if threads == 1 {
        return Ok(vec![work(0..n)?]);
    }
    let chunk = n.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = t * chunk..((t + 1) * chunk).min(n);
                let work = &work;
                scope.spawn(move || work(range))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| MetricsError::bad_input("a counting thread panicked"))?
            })
            .collect()
    })
}

fn tally_joint(rows: &CodedRows<'_>, joint_cells: usize) -> Result<Tallies> {
    let k1 = rows.num_classes + 1;
    let partials = in_parallel(rows.len(), |range| {
        let mut joint = vec![0u64; joint_cells];
        for row in range {
            // mixed-radix index over (condition values…, true, predicted)
            let t = rows.y_true[row] as usize;
            let p = rows.y_pred[row] as usize;
            let mut index = 0usize;
            let mut in_range = t < rows.num_classes && p < k1;
            for condition in rows.conditions {
                let code = condition.codes[row] as usize;
                in_range &= code < condition.values.len();
                index = index * condition.values.len() + code;
            }
            if !in_range {
                return Err(rows.check_row(row).err().unwrap_or_else(|| {
                    MetricsError::bad_input(format!("invalid codes at row {row}"))
                }));
            }
            joint[index * rows.num_classes * k1 + t * k1 + p] += 1;
        }
        Ok(joint)
    })?;
    let mut joint = vec![0u64; joint_cells];
    for partial in partials {
        for (total, part) in joint.iter_mut().zip(partial) {
            *total += part;
        }
    }
    Ok(marginalize(rows, &joint))
}

/// Sums the joint histogram into the overall matrix and each condition value's matrix.
fn marginalize(rows: &CodedRows<'_>, joint: &[u64]) -> Tallies {
    let k = rows.num_classes;
    let cells = k * (k + 1);
    let mut tallies = empty_tallies(rows);
    let mut digits = vec![0usize; rows.conditions.len()];
    for (combo, block) in joint.chunks_exact(cells).enumerate() {
        let mut rest = combo;
        for (digit, condition) in digits.iter_mut().zip(rows.conditions).rev() {
            let radix = condition.values.len().max(1);
            *digit = rest % radix;
            rest /= radix;
        }
        add_block(tallies.overall.counts_mut(), block);
        for (column, &digit) in digits.iter().enumerate() {
            if let Some(matrix) = tallies.per_condition[column].get_mut(digit) {
                add_block(matrix.counts_mut(), block);
            }
        }
    }
    tallies
}

fn tally_per_column(rows: &CodedRows<'_>) -> Result<Tallies> {
    let k = rows.num_classes;
    let cells = k * (k + 1);
    let partials = in_parallel(rows.len(), |range| {
        let mut tallies = empty_tallies(rows);
        for row in range {
            rows.check_row(row)?;
            let cell = rows.y_true[row] as usize * (k + 1) + rows.y_pred[row] as usize;
            tallies.overall.counts_mut()[cell] += 1;
            for (column, condition) in rows.conditions.iter().enumerate() {
                let value = condition.codes[row] as usize;
                tallies.per_condition[column][value].counts_mut()[cell] += 1;
            }
        }
        Ok(tallies)
    })?;
    let mut total = empty_tallies(rows);
    for partial in partials {
        add_block(total.overall.counts_mut(), partial.overall.counts());
        for (mine, theirs) in total.per_condition.iter_mut().zip(&partial.per_condition) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                a.merge(b);
            }
        }
    }
    debug_assert_eq!(total.overall.counts().len(), cells);
    Ok(total)
}

fn empty_tallies(rows: &CodedRows<'_>) -> Tallies {
    Tallies {
        overall: ConfusionMatrix::new(rows.num_classes),
        per_condition: rows
            .conditions
            .iter()
            .map(|c| vec![ConfusionMatrix::new(rows.num_classes); c.values.len()])
            .collect(),
    }
}

fn add_block(target: &mut [u64], block: &[u64]) {
    for (t, b) in target.iter_mut().zip(block) {
        *t += b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("v{i}")).collect()
    }

    #[test]
    fn joint_and_per_column_paths_agree() {
        let y_true = [0, 1, 1, 0, 1, 0, 0];
        let y_pred = [0, 1, 2, 1, 1, 0, 2];
        let snr = [0, 0, 1, 1, 2, 2, 2];
        let dur = [1, 0, 1, 0, 1, 0, 1];
        let (snr_values, dur_values) = (names(3), names(2));
        let conditions = [
            ConditionCodes {
                name: "snr",
                codes: &snr,
                values: &snr_values,
            },
            ConditionCodes {
                name: "dur",
                codes: &dur,
                values: &dur_values,
            },
        ];
        let rows = CodedRows {
            num_classes: 2,
            y_true: &y_true,
            y_pred: &y_pred,
            conditions: &conditions,
        };
        let joint = tally_joint(&rows, 2 * 3 * 3 * 2).unwrap();
        let per_column = tally_per_column(&rows).unwrap();
        assert_eq!(joint, per_column);
        assert_eq!(
            joint.overall.to_nested(),
            vec![vec![2, 1, 1], vec![0, 2, 1]]
        );
        // snr v2: rows 4,5,6 → (1,1), (0,0), (0,2)
        assert_eq!(
            joint.per_condition[0][2].to_nested(),
            vec![vec![1, 0, 1], vec![0, 1, 0]]
        );
        // dur v0: rows 1,3,5 → (1,1), (0,1), (0,0)
        assert_eq!(
            joint.per_condition[1][0].to_nested(),
            vec![vec![1, 1, 0], vec![0, 1, 0]]
        );
    }

    #[test]
    fn out_of_range_condition_code_names_the_row() {
        let values = names(2);
        let conditions = [ConditionCodes {
            name: "snr",
            codes: &[0, 5],
            values: &values,
        }];
        let rows = CodedRows {
            num_classes: 2,
            y_true: &[0, 1],
            y_pred: &[0, 1],
            conditions: &conditions,
        };
        let err = tally(&rows).unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
        assert!(tally_per_column(&rows).is_err());
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        let values = names(2);
        let conditions = [ConditionCodes {
            name: "snr",
            codes: &[0],
            values: &values,
        }];
        let rows = CodedRows {
            num_classes: 2,
            y_true: &[0, 1],
            y_pred: &[0, 1],
            conditions: &conditions,
        };
        assert_eq!(tally(&rows).unwrap_err().code(), "E_BAD_INPUT");
    }

    #[test]
    fn large_input_split_across_threads_matches_serial_counts() {
        let n = 3 * MIN_ROWS_PER_THREAD + 17;
        let y_true: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
        let y_pred: Vec<u32> = (0..n).map(|i| ((i / 7) % 4) as u32).collect();
        let cond: Vec<u32> = (0..n).map(|i| ((i / 3) % 5) as u32).collect();
        let values = names(5);
        let conditions = [ConditionCodes {
            name: "c",
            codes: &cond,
            values: &values,
        }];
        let rows = CodedRows {
            num_classes: 3,
            y_true: &y_true,
            y_pred: &y_pred,
            conditions: &conditions,
        };
        let tallies = tally(&rows).unwrap();
        let serial = ConfusionMatrix::from_codes(3, &y_true, &y_pred).unwrap();
        assert_eq!(tallies.overall, serial);
        let sum: u64 = tallies.per_condition[0].iter().map(|m| m.total()).sum();
        assert_eq!(sum, n as u64);
    }
}
