//! Turns an Arrow column of any scalar type into `u32` codes over its distinct values.
//! Each batch is cast to `Dictionary(UInt32, Utf8)` by arrow (hashing without per-row
//! allocation); only the batch's few distinct values go through our own interner.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, UInt32Type};

use crate::error::{MetricsError, Result};

/// Shown for nulls in reports.
pub const NULL_VALUE: &str = "(null)";

/// A column as codes into `values` (first-seen order); nulls get their own code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedColumn {
    pub codes: Vec<u32>,
    pub values: Vec<String>,
    pub null_code: Option<u32>,
}

impl EncodedColumn {
    /// The row index of the first null, if any.
    pub fn first_null_row(&self) -> Option<usize> {
        let null = self.null_code?;
        self.codes.iter().position(|&c| c == null)
    }
}

#[derive(Default)]
struct Interner {
    column: EncodedColumn,
    index: HashMap<String, u32>,
}

impl Interner {
    fn code_of(&mut self, value: &str) -> u32 {
        if let Some(&code) = self.index.get(value) {
            return code;
        }
        let code = self.column.values.len() as u32;
        self.column.values.push(value.to_string());
        self.index.insert(value.to_string(), code);
        code
    }

    fn null_code(&mut self) -> u32 {
        if let Some(code) = self.column.null_code {
            return code;
        }
        let code = self.column.values.len() as u32;
        self.column.values.push(NULL_VALUE.to_string());
        self.column.null_code = Some(code);
        code
    }
}

/// Encodes column `name` across all batches.
pub fn encode_column(batches: &[RecordBatch], name: &str) -> Result<EncodedColumn> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut interner = Interner::default();
    interner.column.codes.reserve(rows);
    let dictionary_type =
        DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8));
    for batch in batches {
        let array = batch
            .column_by_name(name)
            .ok_or_else(|| MetricsError::MissingColumn {
                column: name.to_string(),
                available: batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect(),
            })?;
        let encoded = cast(array, &dictionary_type).map_err(|e| {
            MetricsError::bad_input(format!(
                "column `{name}` of type {} cannot be used as labels: {e}",
                array.data_type()
            ))
        })?;
        let dictionary = encoded.as_dictionary::<UInt32Type>();
        let values = dictionary.values().as_string::<i32>();
        let local: Vec<u32> = (0..values.len())
            .map(|i| {
                if values.is_null(i) {
                    interner.null_code()
                } else {
                    interner.code_of(values.value(i))
                }
            })
            .collect();
        let keys = dictionary.keys();
        if keys.null_count() == 0 {
            let codes = &mut interner.column.codes;
            codes.extend(keys.values().iter().map(|&k| local[k as usize]));
        } else {
            let null = interner.null_code();
            let codes = &mut interner.column.codes;
            codes.extend(keys.iter().map(|k| k.map_or(null, |k| local[k as usize])));
        }
    }
    Ok(interner.column)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, BooleanArray, DictionaryArray, Int64Array, StringArray};
    use arrow::datatypes::Int8Type;

    use super::*;

    fn batch(column: ArrayRef) -> RecordBatch {
        RecordBatch::try_from_iter([("c", column)]).unwrap()
    }

    #[test]
    fn strings_across_batches_share_codes() {
        let a = batch(Arc::new(StringArray::from(vec![
            Some("b"),
            Some("a"),
            None,
        ])));
        let b = batch(Arc::new(StringArray::from(vec![Some("a"), Some("c")])));
        let encoded = encode_column(&[a, b], "c").unwrap();
        assert_eq!(encoded.values, vec!["b", "a", NULL_VALUE, "c"]);
        assert_eq!(encoded.codes, vec![0, 1, 2, 1, 3]);
        assert_eq!(encoded.null_code, Some(2));
        assert_eq!(encoded.first_null_row(), Some(2));
    }

    #[test]
    fn integers_booleans_and_dictionaries_become_text() {
        let ints = encode_column(&[batch(Arc::new(Int64Array::from(vec![1, 0, 1])))], "c").unwrap();
        assert_eq!(
            (ints.values, ints.codes),
            (vec!["1".into(), "0".into()], vec![0, 1, 0])
        );
        let bools = encode_column(
            &[batch(Arc::new(BooleanArray::from(vec![true, false])))],
            "c",
        )
        .unwrap();
        assert_eq!(bools.values, vec!["true", "false"]);
        let dict: DictionaryArray<Int8Type> = vec!["x", "y", "x"].into_iter().collect();
        let dict = encode_column(&[batch(Arc::new(dict))], "c").unwrap();
        assert_eq!(dict.codes, vec![0, 1, 0]);
    }

    #[test]
    fn missing_column_lists_available() {
        let err = encode_column(&[batch(Arc::new(Int64Array::from(vec![1])))], "z").unwrap_err();
        assert_eq!(err.code(), "E_MISSING_COLUMN");
        assert!(err.to_string().contains("available columns: c"));
    }
}
