//! Errors with stable codes: the bindings prefix messages with `[CODE] ` so TypeScript recovers them.

use std::path::PathBuf;

/// Everything that can go wrong while reading a table or computing metrics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("input file not found: {}", path.display())]
    FileNotFound { path: PathBuf },

    #[error(
        "column `{}` not found; available columns: {}",
        printable(column),
        column_list(available)
    )]
    MissingColumn {
        column: String,
        available: Vec<String>,
    },

    #[error("the table has no rows")]
    EmptyTable,

    #[error("true label `{label}` (row {row}) is not in the label set [{}]", allowed.join(", "))]
    UnknownLabel {
        label: String,
        row: usize,
        allowed: Vec<String>,
    },

    #[error("{0}")]
    BadInput(String),

    #[error("cannot read {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl MetricsError {
    /// Stable machine-readable code; never changes once published.
    pub fn code(&self) -> &'static str {
        match self {
            MetricsError::FileNotFound { .. } => "E_FILE_NOT_FOUND",
            MetricsError::MissingColumn { .. } => "E_MISSING_COLUMN",
            MetricsError::EmptyTable => "E_EMPTY_TABLE",
            MetricsError::UnknownLabel { .. } => "E_UNKNOWN_LABEL",
            MetricsError::BadInput(_) | MetricsError::Read { .. } => "E_BAD_INPUT",
        }
    }

    pub(crate) fn bad_input(message: impl Into<String>) -> Self {
        MetricsError::BadInput(message.into())
    }

    pub(crate) fn read(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        MetricsError::Read {
            what: what.into(),
            source: Box::new(source),
        }
    }
}

pub type Result<T, E = MetricsError> = std::result::Result<T, E>;

/// Longest column name and most columns an error message shows: a binary file read as CSV has
/// one "column" of raw bytes, which must not end up on the user's terminal.
const MAX_NAME_CHARS: usize = 40;
const MAX_COLUMNS_SHOWN: usize = 20;

/// `name` with control and non-printable characters escaped, cut to `MAX_NAME_CHARS`.
fn printable(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(MAX_NAME_CHARS)
        .flat_map(|c| {
            if c.is_control() || c == '\u{fffd}' {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if name.chars().count() > MAX_NAME_CHARS {
        out.push('…');
    }
    out
}

fn column_list(columns: &[String]) -> String {
    let mut shown: Vec<String> = columns
        .iter()
        .take(MAX_COLUMNS_SHOWN)
        .map(|c| printable(c))
        .collect();
    if columns.len() > MAX_COLUMNS_SHOWN {
        shown.push(format!("… ({} more)", columns.len() - MAX_COLUMNS_SHOWN));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let missing = MetricsError::MissingColumn {
            column: "pred".into(),
            available: vec!["a".into(), "b".into()],
        };
        assert_eq!(missing.code(), "E_MISSING_COLUMN");
        assert_eq!(
            missing.to_string(),
            "column `pred` not found; available columns: a, b"
        );
        assert_eq!(MetricsError::EmptyTable.code(), "E_EMPTY_TABLE");
        // Parquet bytes read as a CSV header: escaped and cut, not dumped.
        let binary = MetricsError::MissingColumn {
            column: "label".into(),
            available: vec![format!("PAR1\u{15}\u{0}\u{fffd}{}", "x".repeat(100))],
        };
        assert_eq!(
            binary.to_string(),
            format!(
                "column `label` not found; available columns: PAR1\\u{{15}}\\u{{0}}\\u{{fffd}}{}…",
                "x".repeat(33)
            )
        );
        assert_eq!(MetricsError::bad_input("x").code(), "E_BAD_INPUT");
    }
}
