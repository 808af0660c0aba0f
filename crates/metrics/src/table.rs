//! Reads the named columns of a Parquet, CSV/TSV, JSONL or Arrow IPC table into record batches.
//! Only the requested columns are decoded; CSV and JSON values are read as text so a label column
//! never fails type inference.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Seek};
use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::{FileReader, StreamReader};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::error::{MetricsError, Result};

const BATCH_ROWS: usize = 64 * 1024;
/// JSON lines sampled to discover column names before falling back to a full scan.
const JSON_SCHEMA_SAMPLE: usize = 1000;
const IPC_FILE_MAGIC: &[u8] = b"ARROW1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Parquet,
    Csv,
    Tsv,
    Jsonl,
    ArrowIpc,
}

impl TableFormat {
    /// Parses a format name (`parquet`, `csv`, `tsv`, `jsonl`/`ndjson`/`json`, `arrow`/`ipc`/`feather`).
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "parquet" | "pq" => Ok(TableFormat::Parquet),
            "csv" => Ok(TableFormat::Csv),
            "tsv" | "tab" => Ok(TableFormat::Tsv),
            "jsonl" | "ndjson" | "json" => Ok(TableFormat::Jsonl),
            "arrow" | "ipc" | "feather" | "arrows" => Ok(TableFormat::ArrowIpc),
            other => Err(MetricsError::bad_input(format!(
                "unsupported table format `{other}` (use parquet, csv, tsv, jsonl or arrow)"
            ))),
        }
    }

    /// The format implied by a file extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        let extension = path.extension().and_then(|e| e.to_str()).ok_or_else(|| {
            MetricsError::bad_input(format!(
                "cannot tell the format of {} from its extension; pass a format",
                path.display()
            ))
        })?;
        Self::parse(extension)
    }
}

/// Batches holding exactly the requested columns (duplicates requested once).
pub fn read_file(
    path: &Path,
    format: Option<TableFormat>,
    columns: &[&str],
) -> Result<Vec<RecordBatch>> {
    let format = match format {
        Some(format) => format,
        None => TableFormat::from_path(path)?,
    };
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => MetricsError::FileNotFound {
            path: path.to_path_buf(),
        },
        _ => MetricsError::read(path.display().to_string(), e),
    })?;
    let what = path.display().to_string();
    let size = file
        .metadata()
        .map_err(|e| MetricsError::read(&what, e))?
        .len();
    if size == 0 {
        return Err(MetricsError::EmptyTable);
    }
    match format {
        TableFormat::Parquet => read_parquet(file, columns, &what),
        TableFormat::Csv => read_delimited(file, b',', columns, &what),
        TableFormat::Tsv => read_delimited(file, b'\t', columns, &what),
        TableFormat::Jsonl => read_jsonl(file, columns, &what),
        TableFormat::ArrowIpc => read_ipc(BufReader::new(file), columns, &what),
    }
}

/// Reads an Arrow IPC buffer (file format `ARROW1…` or stream format).
pub fn read_ipc_bytes(bytes: &[u8], columns: &[&str]) -> Result<Vec<RecordBatch>> {
    if bytes.is_empty() {
        return Err(MetricsError::EmptyTable);
    }
    read_ipc(Cursor::new(bytes), columns, "Arrow IPC buffer")
}

fn unique<'a>(columns: &[&'a str]) -> Vec<&'a str> {
    let mut seen = Vec::with_capacity(columns.len());
    for column in columns {
        if !seen.contains(column) {
            seen.push(*column);
        }
    }
    seen
}

/// Indices of `columns` in `schema`, or `MissingColumn` listing what exists.
fn column_indices(schema: &Schema, columns: &[&str]) -> Result<Vec<usize>> {
    unique(columns)
        .into_iter()
        .map(|name| {
            schema
                .index_of(name)
                .map_err(|_| MetricsError::MissingColumn {
                    column: name.to_string(),
                    available: schema.fields().iter().map(|f| f.name().clone()).collect(),
                })
        })
        .collect()
}

fn collect<I, E>(batches: I, what: &str) -> Result<Vec<RecordBatch>>
where
    I: Iterator<Item = std::result::Result<RecordBatch, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    batches
        .map(|b| b.map_err(|e| MetricsError::read(what, e)))
        .collect()
}

fn read_parquet(file: File, columns: &[&str], what: &str) -> Result<Vec<RecordBatch>> {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| MetricsError::read(what, e))?;
    let indices = column_indices(builder.schema(), columns)?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| MetricsError::read(what, e))?;
    collect(reader, what)
}

fn read_delimited(
    mut file: File,
    delimiter: u8,
    columns: &[&str],
    what: &str,
) -> Result<Vec<RecordBatch>> {
    let format = arrow::csv::reader::Format::default()
        .with_header(true)
        .with_delimiter(delimiter);
    let (header, _) = format
        .infer_schema(&mut file, Some(0))
        .map_err(|e| MetricsError::read(what, e))?;
    file.rewind().map_err(|e| MetricsError::read(what, e))?;
    let text_schema = as_text_schema(header.fields().iter().map(|f| f.name().as_str()));
    let indices = column_indices(&text_schema, columns)?;
    let reader = arrow::csv::ReaderBuilder::new(text_schema)
        .with_header(true)
        .with_delimiter(delimiter)
        .with_projection(indices)
        .with_batch_size(BATCH_ROWS)
        .build(file)
        .map_err(|e| MetricsError::read(what, e))?;
    collect(reader, what)
}

fn read_jsonl(mut file: File, columns: &[&str], what: &str) -> Result<Vec<RecordBatch>> {
    let mut sample =
        arrow::json::reader::infer_json_schema(BufReader::new(&mut file), Some(JSON_SCHEMA_SAMPLE))
            .map_err(|e| MetricsError::read(what, e))?
            .0;
    if column_indices(&sample, columns).is_err() {
        // a key may first appear late in the file: look at every line before giving up
        file.rewind().map_err(|e| MetricsError::read(what, e))?;
        sample = arrow::json::reader::infer_json_schema(BufReader::new(&mut file), None)
            .map_err(|e| MetricsError::read(what, e))?
            .0;
        column_indices(&sample, columns)?;
    }
    file.rewind().map_err(|e| MetricsError::read(what, e))?;
    let reader = arrow::json::ReaderBuilder::new(as_text_schema(unique(columns)))
        .with_coerce_primitive(true)
        .with_batch_size(BATCH_ROWS)
        .build(BufReader::new(file))
        .map_err(|e| MetricsError::read(what, e))?;
    collect(reader, what)
}

fn read_ipc<R: BufRead + Seek>(
    mut reader: R,
    columns: &[&str],
    what: &str,
) -> Result<Vec<RecordBatch>> {
    let mut magic = [0u8; 6];
    let is_file = reader.read_exact(&mut magic).is_ok() && magic == IPC_FILE_MAGIC;
    reader.rewind().map_err(|e| MetricsError::read(what, e))?;
    if is_file {
        let file = FileReader::try_new(reader, None).map_err(|e| MetricsError::read(what, e))?;
        let indices = column_indices(&file.schema(), columns)?;
        let batches = collect(file, what)?;
        project(batches, &indices, what)
    } else {
        let stream =
            StreamReader::try_new(reader, None).map_err(|e| MetricsError::read(what, e))?;
        let indices = column_indices(&stream.schema(), columns)?;
        let batches = collect(stream, what)?;
        project(batches, &indices, what)
    }
}

fn project(batches: Vec<RecordBatch>, indices: &[usize], what: &str) -> Result<Vec<RecordBatch>> {
    batches
        .iter()
        .map(|b| b.project(indices).map_err(|e| MetricsError::read(what, e)))
        .collect()
}

fn as_text_schema<'a>(names: impl IntoIterator<Item = &'a str>) -> SchemaRef {
    Arc::new(Schema::new(
        names
            .into_iter()
            .map(|name| Field::new(name, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}
