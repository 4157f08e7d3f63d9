//! Readers for the vector files `vecsql import` and `vecsql bench --queries` take: `.npy`
//! (float32/float16/float64, via `npyz`), `.fvecs`/`.bvecs` (the TEXMEX format of SIFT/GIST),
//! JSON lines and CSV/TSV.
//!
//! Each format's parser (one module per format) yields a vector with its place in the file and,
//! for formats with named fields (JSON objects, CSV under a header), what [`fields`] reads from
//! them: the id, the text and the columns the import fills. One driver ([`records`]) turns
//! those into [`Record`]s for every format: numbered in order, each vector checked (all of the
//! first one's dimension, every element finite), and nothing read after the first error. A
//! file of any size streams through a fixed amount of memory, and a [`ReadError`] says where
//! it is: the line for text formats, the vector number (1-based) for binary ones.

mod delimited;
mod fields;
mod jsonl;
mod npy;
mod vecs;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

pub use fields::{ColumnSpec, Named, ValueType};

/// One vector read from a file, with what its named fields carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 0-based position among the file's vectors.
    pub position: u64,
    /// Where it was read, for messages.
    pub location: Location,
    /// `id`, `text` and the requested columns (`"id"` in JSON lines, an `id` column in CSV...);
    /// empty for formats without field names.
    pub named: Named,
    pub vector: Vec<f32>,
}

/// One record as its format's parser read it, before the checks every record gets.
struct Parsed {
    location: Location,
    vector: Vec<f32>,
    named: Named,
}

/// A format's parser: the next record, `None` at the end of the file.
trait Parse: FnMut() -> Option<Result<Parsed, ReadError>> {}

impl<F: FnMut() -> Option<Result<Parsed, ReadError>>> Parse for F {}

impl Parsed {
    fn unnamed(location: Location, vector: Vec<f32>) -> Self {
        Parsed {
            location,
            vector,
            named: Named::default(),
        }
    }
}

/// Where in a file a record (or an error) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The file's header (`.npy`) or the file as a whole.
    File,
    /// A 1-based line of a text file.
    Line(u64),
    /// A 1-based vector of a binary file.
    Vector(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line(n) => write!(f, "line {n}: "),
            Location::Vector(n) => write!(f, "vector {n}: "),
        }
    }
}

/// A malformed record or an unreadable file: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub location: Location,
    pub message: String,
}

impl ReadError {
    fn new(location: Location, message: impl Into<String>) -> Self {
        ReadError {
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.location, self.message)
    }
}

impl std::error::Error for ReadError {}

/// The file formats understood, chosen by file extension or `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// NumPy `.npy`: a 2-D (rows x dims) or 1-D array of float32, float16 or float64.
    Npy,
    /// `.fvecs`: per vector, an int32 dimension then that many float32 (little-endian).
    Fvecs,
    /// `.bvecs`: per vector, an int32 dimension then that many uint8.
    Bvecs,
    /// JSON lines: `[0.1, ...]` or `{"id": 7, "vector": [...], "text": "..."}` per line (and
    /// the fields of --metadata, --partition and --aux columns).
    Jsonl,
    /// CSV: numbers per row, optionally with a header naming `id`, `text`, `vector` columns
    /// and those of --metadata, --partition and --aux (recognised when every field of the
    /// first row is a name, or with --header).
    Csv,
    /// Like CSV, tab-separated.
    Tsv,
}

impl Format {
    /// The format a file name implies, if its extension is a known one.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "npy" => Format::Npy,
            "fvecs" => Format::Fvecs,
            "bvecs" => Format::Bvecs,
            "jsonl" | "ndjson" | "json" => Format::Jsonl,
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            _ => return None,
        })
    }
}

/// Most dimensions a vector file may declare (the SQL functions' limit).
pub const MAX_DIMENSIONS: usize = 65_536;

/// How to read a file besides its format.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Whether a CSV/TSV file starts with a header row (`None`: only when its first row is
    /// unambiguously one).
    pub header: Option<bool>,
    /// Columns filled from the record field of the same name, into [`Named::columns`].
    pub columns: Vec<ColumnSpec>,
}

/// A stream of records from one file.
pub struct VectorReader {
    records: Box<dyn Iterator<Item = Result<Record, ReadError>>>,
    /// Number of vectors, known up front for binary formats and estimated from the line count
    /// for text formats (for the progress bar).
    pub estimated_len: Option<u64>,
}

impl Iterator for VectorReader {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.records.next()
    }
}

/// Opens `path` in `format` (or the one its extension names).
pub fn open(
    path: &Path,
    format: Option<Format>,
    options: Options,
) -> Result<VectorReader, ReadError> {
    let format = format.or_else(|| Format::from_path(path)).ok_or_else(|| {
        ReadError::new(
            Location::File,
            format!(
                "cannot tell the format of {} from its extension; \
                 use .npy, .fvecs, .bvecs, .jsonl, .csv or .tsv, or pass --format",
                path.display()
            ),
        )
    })?;
    let file = File::open(path).map_err(|e| {
        ReadError::new(
            Location::File,
            format!("cannot open {}: {e}", path.display()),
        )
    })?;
    let size = file.metadata().map(|m| m.len()).ok();
    let lines = match format {
        Format::Jsonl | Format::Csv | Format::Tsv => count_lines(path).ok(),
        _ => None,
    };
    read(
        BufReader::with_capacity(1 << 20, file),
        format,
        options,
        size,
        lines,
    )
}

/// Reads records from any reader (the tests' in-memory files).
#[cfg(test)]
pub fn from_reader(
    reader: impl io::Read + 'static,
    format: Format,
    options: Options,
) -> Result<VectorReader, ReadError> {
    read(BufReader::new(reader), format, options, None, None)
}

/// The records of `reader` in `format`. `size` (bytes) and `lines`: the file's, when known,
/// for the estimate of its length.
fn read(
    reader: impl BufRead + 'static,
    format: Format,
    options: Options,
    size: Option<u64>,
    lines: Option<u64>,
) -> Result<VectorReader, ReadError> {
    let binary = |name: &str| {
        if options.columns.is_empty() {
            Ok(())
        } else {
            Err(ReadError::new(
                Location::File,
                fields::unnamed(&options.columns, name),
            ))
        }
    };
    Ok(match format {
        Format::Npy => {
            binary("a .npy file")?;
            let (parse, rows, dims) = npy::parse(reader)?;
            records(parse, Some(dims), Some(rows))
        }
        Format::Fvecs | Format::Bvecs => {
            let kind = if format == Format::Fvecs {
                binary("an .fvecs file")?;
                vecs::Kind::Float
            } else {
                binary("a .bvecs file")?;
                vecs::Kind::Byte
            };
            let (parse, len) = vecs::parse(reader, size, kind);
            records(parse, None, len)
        }
        Format::Jsonl => records(jsonl::parse(reader, options.columns), None, lines),
        Format::Csv | Format::Tsv => {
            let delimiter = if format == Format::Csv { b',' } else { b'\t' };
            let parse = delimited::parse(reader, delimiter, options.header, options.columns);
            records(parse, None, lines)
        }
    })
}

/// What every format shares: records numbered in order, each vector checked against the first
/// one's dimension (or `dims`, from a file header) and for finite elements, and nothing read
/// after the first error.
fn records(
    mut parse: impl Parse + 'static,
    dims: Option<usize>,
    estimated_len: Option<u64>,
) -> VectorReader {
    let mut shape = Shape { dims };
    let mut position = 0u64;
    let mut done = false;
    let records = std::iter::from_fn(move || {
        if done {
            return None;
        }
        let record = parse()?.and_then(|p| {
            shape.check(p.location, &p.vector)?;
            Ok(Record {
                position,
                location: p.location,
                named: p.named,
                vector: p.vector,
            })
        });
        match record {
            Ok(_) => position += 1,
            Err(_) => done = true,
        }
        Some(record)
    });
    VectorReader {
        records: Box::new(records),
        estimated_len,
    }
}

fn count_lines(path: &Path) -> io::Result<u64> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        lines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[buf.len() - 1];
        let n = buf.len();
        reader.consume(n);
    }
    Ok(lines + u64::from(last != b'\n'))
}

/// Checks one vector's dimension against the first one's and its elements for finiteness.
struct Shape {
    dims: Option<usize>,
}

impl Shape {
    fn check(&mut self, location: Location, vector: &[f32]) -> Result<(), ReadError> {
        if vector.is_empty() {
            return Err(ReadError::new(location, "empty vector"));
        }
        if vector.len() > MAX_DIMENSIONS {
            return Err(ReadError::new(
                location,
                format!(
                    "{} dimensions, more than the {MAX_DIMENSIONS} allowed",
                    vector.len()
                ),
            ));
        }
        match self.dims {
            None => self.dims = Some(vector.len()),
            Some(d) if d != vector.len() => {
                return Err(ReadError::new(
                    location,
                    format!("{} dimensions, but the first vector has {d}", vector.len()),
                ))
            }
            Some(_) => {}
        }
        if let Some(i) = vector.iter().position(|x| !x.is_finite()) {
            return Err(ReadError::new(
                location,
                format!("element {i} is {}, not a finite number", vector[i]),
            ));
        }
        Ok(())
    }
}

/// The error for a read that failed inside a vector of a binary file.
fn truncated(location: Location, e: io::Error) -> ReadError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        ReadError::new(
            location,
            "the file ends in the middle of this vector (truncated?)",
        )
    } else {
        ReadError::new(location, format!("read error: {e}"))
    }
}

#[cfg(test)]
mod tests;
