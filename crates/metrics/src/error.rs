//! Errors with stable codes: the bindings prefix messages with `[CODE] ` so TypeScript recovers them.

use std::path::PathBuf;

/// Everything that can go wrong while reading a table or computing metrics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("input file not found: {}", path.display())]
    FileNotFound { path: PathBuf },

    #[error("column `{column}` not found; available columns: {}", available.join(", "))]
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
        assert_eq!(MetricsError::bad_input("x").code(), "E_BAD_INPUT");
    }
}
