//! Readers for the vector files `vecsql import` and `vecsql bench --queries` take: `.npy`
//! (float32/float16/float64, via `npyz`), `.fvecs`/`.bvecs` (the TEXMEX format of SIFT/GIST),
//! JSON lines and CSV/TSV.
//!
//! Every reader yields [`Record`]s one at a time, so a file of any size streams through a
//! fixed amount of memory, and stops at the first malformed record with a [`ReadError`] that
//! says where it is: the line for text formats, the vector number (1-based) for binary ones.
//! Vectors must all have the dimension of the first one, and every element must be finite.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use half::f16;

/// One vector read from a file, with the optional id and text some formats carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 0-based position among the file's vectors.
    pub position: u64,
    /// Where it was read, for messages.
    pub location: Location,
    /// An id given by the record itself (`"id"` in JSON lines, an `id` column in CSV).
    pub id: Option<i64>,
    /// A text given by the record itself (`"text"` in JSON lines, a `text` column in CSV).
    pub text: Option<String>,
    pub vector: Vec<f32>,
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
    /// JSON lines: `[0.1, ...]` or `{"id": 7, "vector": [...], "text": "..."}` per line.
    Jsonl,
    /// CSV: numbers per row, optionally with a header naming `id`, `text`, `vector` columns
    /// (recognised when every field of the first row is a name, or with --header).
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

/// Opens `path` in `format` (or the one its extension names). `header`: whether a CSV/TSV
/// file starts with a header row (`None`: only when its first row is unambiguously one).
pub fn open(
    path: &Path,
    format: Option<Format>,
    header: Option<bool>,
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
    let reader = BufReader::with_capacity(1 << 20, file);
    let estimate_lines = || count_lines(path).ok();
    match format {
        Format::Npy => npy(reader),
        Format::Fvecs => Ok(vecs(reader, size, VecsKind::Float)),
        Format::Bvecs => Ok(vecs(reader, size, VecsKind::Byte)),
        Format::Jsonl => Ok(jsonl(reader, estimate_lines())),
        Format::Csv => Ok(delimited(reader, b',', header, estimate_lines())),
        Format::Tsv => Ok(delimited(reader, b'\t', header, estimate_lines())),
    }
}

/// Reads records from any reader (the tests' in-memory files).
#[cfg(test)]
pub fn from_reader(reader: impl Read + 'static, format: Format) -> Result<VectorReader, ReadError> {
    from_reader_with_header(reader, format, None)
}

/// [`from_reader`] with a `--header`/`--no-header` choice.
#[cfg(test)]
pub fn from_reader_with_header(
    reader: impl Read + 'static,
    format: Format,
    header: Option<bool>,
) -> Result<VectorReader, ReadError> {
    let reader = BufReader::new(reader);
    match format {
        Format::Npy => npy(reader),
        Format::Fvecs => Ok(vecs(reader, None, VecsKind::Float)),
        Format::Bvecs => Ok(vecs(reader, None, VecsKind::Byte)),
        Format::Jsonl => Ok(jsonl(reader, None)),
        Format::Csv => Ok(delimited(reader, b',', header, None)),
        Format::Tsv => Ok(delimited(reader, b'\t', header, None)),
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

// ---------------------------------------------------------------------------------------------
// .npy

fn npy(reader: impl Read + 'static) -> Result<VectorReader, ReadError> {
    let header_error =
        |e: io::Error| ReadError::new(Location::File, format!("not a readable .npy file: {e}"));
    let file = npyz::NpyFile::new(reader).map_err(header_error)?;
    if file.order() == npyz::Order::Fortran {
        return Err(ReadError::new(
            Location::File,
            "Fortran-order .npy arrays are not supported; save np.ascontiguousarray(a)",
        ));
    }
    let shape = file.shape().to_vec();
    let (rows, dims) = match shape.as_slice() {
        [d] => (1, *d),
        [n, d] => (*n, *d),
        _ => {
            return Err(ReadError::new(
                Location::File,
                format!("expected a 1-D or 2-D array (rows x dimensions), found shape {shape:?}"),
            ))
        }
    };
    let dims = usize::try_from(dims).unwrap_or(usize::MAX);
    if dims == 0 || dims > MAX_DIMENSIONS {
        return Err(ReadError::new(
            Location::File,
            format!("{dims} dimensions per vector; expected 1 to {MAX_DIMENSIONS}"),
        ));
    }
    let float_size = match file.dtype() {
        npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float => Some(t.size_field()),
        _ => None,
    };
    let unsupported = |detail: String| {
        ReadError::new(
            Location::File,
            format!("dtype {detail} is not supported; use float32, float16 or float64"),
        )
    };
    let dtype_error = |e: npyz::DTypeError| ReadError::new(Location::File, e.to_string());
    let elements: Box<dyn Iterator<Item = io::Result<f32>>> = match float_size {
        Some(4) => Box::new(file.data::<f32>().map_err(dtype_error)?),
        Some(2) => Box::new(
            file.data::<f16>()
                .map_err(dtype_error)?
                .map(|x| x.map(f32::from)),
        ),
        Some(8) => Box::new(
            file.data::<f64>()
                .map_err(dtype_error)?
                .map(|x| x.map(|v| v as f32)),
        ),
        _ => return Err(unsupported(file.dtype().descr())),
    };
    let mut shape_check = Shape { dims: Some(dims) };
    let mut elements = elements;
    let mut position = 0u64;
    let records = std::iter::from_fn(move || {
        if position >= rows {
            return None;
        }
        let location = Location::Vector(position + 1);
        let mut vector = Vec::with_capacity(dims);
        for _ in 0..dims {
            match elements.next() {
                Some(Ok(x)) => vector.push(x),
                Some(Err(e)) => {
                    position = rows;
                    return Some(Err(truncated(location, e)));
                }
                None => {
                    position = rows;
                    return Some(Err(ReadError::new(
                        location,
                        "the file ends early (truncated .npy?)",
                    )));
                }
            }
        }
        let record = shape_check.check(location, &vector).map(|()| Record {
            position,
            location,
            id: None,
            text: None,
            vector,
        });
        position = if record.is_ok() { position + 1 } else { rows };
        Some(record)
    });
    Ok(VectorReader {
        records: Box::new(records),
        estimated_len: Some(rows),
    })
}

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

// ---------------------------------------------------------------------------------------------
// .fvecs / .bvecs

#[derive(Clone, Copy)]
enum VecsKind {
    Float,
    Byte,
}

fn vecs(mut reader: impl Read + 'static, size: Option<u64>, kind: VecsKind) -> VectorReader {
    let (element_bytes, name) = match kind {
        VecsKind::Float => (4, ".fvecs"),
        VecsKind::Byte => (1, ".bvecs"),
    };
    // The first dimension header gives the record size, hence the number of vectors.
    let mut first_header = [0u8; 4];
    let first = read_exact_or_eof(&mut reader, &mut first_header);
    let estimated_len = match (&first, size) {
        (Ok(true), Some(size)) => {
            let dims = i32::from_le_bytes(first_header).max(1) as u64;
            Some(size.div_ceil(4 + dims * element_bytes as u64))
        }
        _ => None,
    };
    let mut pending = Some(first);
    let mut shape = Shape { dims: None };
    let mut position = 0u64;
    let mut done = false;
    let mut buf = Vec::new();
    let mut next = move || -> Result<Option<Record>, ReadError> {
        let location = Location::Vector(position + 1);
        let mut dim_bytes = first_header;
        let header = match pending.take() {
            Some(first) => first,
            None => read_exact_or_eof(&mut reader, &mut dim_bytes),
        };
        match header {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => return Err(truncated(location, e)),
        }
        let dims = i32::from_le_bytes(dim_bytes);
        if dims <= 0 || dims as usize > MAX_DIMENSIONS {
            return Err(ReadError::new(
                location,
                format!(
                    "dimension header says {dims}; expected 1 to {MAX_DIMENSIONS} \
                     (is this really a {name} file?)"
                ),
            ));
        }
        buf.resize(dims as usize * element_bytes, 0);
        reader
            .read_exact(&mut buf)
            .map_err(|e| truncated(location, e))?;
        let vector: Vec<f32> = match kind {
            VecsKind::Float => buf
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            VecsKind::Byte => buf.iter().map(|&b| f32::from(b)).collect(),
        };
        shape.check(location, &vector)?;
        position += 1;
        Ok(Some(Record {
            position: position - 1,
            location,
            id: None,
            text: None,
            vector,
        }))
    };
    let records = std::iter::from_fn(move || {
        if done {
            return None;
        }
        let result = next().transpose();
        done = !matches!(result, Some(Ok(_)));
        result
    });
    VectorReader {
        records: Box::new(records),
        estimated_len,
    }
}

/// Fills `buf`; `Ok(false)` at a clean end of file (no byte read), an error on a partial read.
fn read_exact_or_eof(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// JSON lines

fn jsonl(reader: impl BufRead + 'static, lines: Option<u64>) -> VectorReader {
    let mut shape = Shape { dims: None };
    let mut position = 0u64;
    let mut done = false;
    let mut lines_iter = reader.lines();
    let mut line_no = 0u64;
    let records = std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        let line = match lines_iter.next() {
            None => return None,
            Some(Ok(line)) => line,
            Some(Err(e)) => {
                done = true;
                return Some(Err(ReadError::new(
                    Location::Line(line_no + 1),
                    format!("read error: {e}"),
                )));
            }
        };
        line_no += 1;
        let location = Location::Line(line_no);
        if line.trim().is_empty() {
            continue;
        }
        let record = parse_json_record(&line, location, position)
            .and_then(|r| shape.check(location, &r.vector).map(|()| r));
        match record {
            Ok(r) => {
                position += 1;
                return Some(Ok(r));
            }
            Err(e) => {
                done = true;
                return Some(Err(e));
            }
        }
    });
    VectorReader {
        records: Box::new(records),
        estimated_len: lines,
    }
}

fn parse_json_record(line: &str, location: Location, position: u64) -> Result<Record, ReadError> {
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| ReadError::new(location, format!("invalid JSON: {e}")))?;
    let (vector, id, text) = match value {
        serde_json::Value::Array(items) => (json_vector(&items, location)?, None, None),
        serde_json::Value::Object(mut map) => {
            let vector = match map.remove("vector").or_else(|| map.remove("embedding")) {
                Some(serde_json::Value::Array(items)) => json_vector(&items, location)?,
                Some(serde_json::Value::String(s)) => {
                    let items: Vec<serde_json::Value> = serde_json::from_str(&s).map_err(|e| {
                        ReadError::new(location, format!("\"vector\" is not a JSON array: {e}"))
                    })?;
                    json_vector(&items, location)?
                }
                Some(_) => {
                    return Err(ReadError::new(
                        location,
                        "\"vector\" must be an array of numbers",
                    ))
                }
                None => {
                    return Err(ReadError::new(
                        location,
                        "object has no \"vector\" (or \"embedding\") key",
                    ))
                }
            };
            let id = match map.remove("id") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::Number(n)) if n.is_i64() => n.as_i64(),
                Some(other) => {
                    return Err(ReadError::new(
                        location,
                        format!("\"id\" must be an integer, found {other}"),
                    ))
                }
            };
            let text = match map.remove("text") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s),
                Some(other) => Some(other.to_string()),
            };
            (vector, id, text)
        }
        _ => {
            return Err(ReadError::new(
                location,
                "expected an array of numbers or an object with a \"vector\" key",
            ))
        }
    };
    Ok(Record {
        position,
        location,
        id,
        text,
        vector,
    })
}

fn json_vector(items: &[serde_json::Value], location: Location) -> Result<Vec<f32>, ReadError> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_f64().map(|x| x as f32).ok_or_else(|| {
                ReadError::new(location, format!("element {i} is not a number: {v}"))
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// CSV / TSV

/// What each field of a CSV row is, from the header (or all vector components without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Text,
    /// A whole vector as JSON text in one field.
    VectorJson,
    Component,
    /// A header column the import does not use.
    Ignored,
}

/// Whether a first row is a header when the user did not say: `Some(true)` when every field
/// is a non-empty, non-numeric name, `Some(false)` when every field is a number, and `None`
/// (with the first field that is neither) when it could be a header or a malformed row.
fn guess_header(row: &csv::StringRecord) -> Result<bool, (usize, String)> {
    let is_number = |f: &str| f.trim().parse::<f32>().is_ok();
    if row.iter().all(is_number) {
        return Ok(false);
    }
    if row.iter().all(|f| !f.trim().is_empty() && !is_number(f)) {
        return Ok(true);
    }
    let (i, field) = row
        .iter()
        .enumerate()
        .find(|(_, f)| !is_number(f))
        .expect("some field is not a number");
    Err((i, field.to_string()))
}

/// The message for a field that should be a number.
fn not_a_number(i: usize, value: &str) -> String {
    if value.trim().is_empty() {
        format!("field {} is empty", i + 1)
    } else {
        format!("field {} is not a number: {value:?}", i + 1)
    }
}

fn delimited(
    reader: impl Read + 'static,
    delimiter: u8,
    header: Option<bool>,
    lines: Option<u64>,
) -> VectorReader {
    let mut csv_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(reader);
    let mut fields: Option<Vec<Field>> = None;
    let mut shape = Shape { dims: None };
    let mut position = 0u64;
    let mut done = false;
    let mut row = csv::StringRecord::new();
    let records = std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        let read = csv_reader.read_record(&mut row);
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        match read {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                done = true;
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                return Some(Err(ReadError::new(
                    Location::Line(line),
                    format!("unreadable CSV: {e}"),
                )));
            }
        }
        let location = Location::Line(line);
        if row.len() == 1 && row[0].trim().is_empty() {
            continue;
        }
        if fields.is_none() {
            let header = match header.map_or_else(|| guess_header(&row), Ok) {
                Ok(header) => header,
                Err((i, value)) => {
                    done = true;
                    return Some(Err(ReadError::new(
                        location,
                        format!(
                            "{}; pass --header if this line is a header (one is recognised on \
                             its own only when every field is a name), or fix the row",
                            not_a_number(i, &value)
                        ),
                    )));
                }
            };
            if header {
                match header_fields(&row) {
                    Ok(f) => fields = Some(f),
                    Err(message) => {
                        done = true;
                        return Some(Err(ReadError::new(location, message)));
                    }
                }
                continue;
            }
            fields = Some(vec![Field::Component; row.len()]);
        }
        let record = csv_record(&row, fields.as_deref().unwrap_or(&[]), location, position)
            .and_then(|r| shape.check(location, &r.vector).map(|()| r));
        match record {
            Ok(r) => {
                position += 1;
                return Some(Ok(r));
            }
            Err(e) => {
                done = true;
                return Some(Err(e));
            }
        }
    });
    VectorReader {
        records: Box::new(records),
        estimated_len: lines,
    }
}

fn header_fields(header: &csv::StringRecord) -> Result<Vec<Field>, String> {
    let fields: Vec<Field> = header
        .iter()
        .map(|name| match name.trim().to_ascii_lowercase().as_str() {
            "id" => Field::Id,
            "text" => Field::Text,
            "vector" | "embedding" => Field::VectorJson,
            n if n.is_empty() || n.parse::<f64>().is_ok() => Field::Component,
            n if n.starts_with(['v', 'x', 'e', 'd', 'f', 'c']) && n[1..].parse::<u32>().is_ok() => {
                Field::Component
            }
            n if n.starts_with("dim") && n[3..].trim_start_matches('_').parse::<u32>().is_ok() => {
                Field::Component
            }
            _ => Field::Ignored,
        })
        .collect();
    let json = fields.iter().filter(|f| **f == Field::VectorJson).count();
    let components = fields.iter().filter(|f| **f == Field::Component).count();
    match (json, components) {
        (0, 0) => Err(format!(
            "header {:?} names no vector: add a \"vector\" column (JSON array) or one column per \
             component (v0, v1, ...)",
            header.iter().collect::<Vec<_>>()
        )),
        (1, 0) | (0, _) => Ok(fields),
        _ => Err("header has both a \"vector\" column and component columns".to_string()),
    }
}

fn csv_record(
    row: &csv::StringRecord,
    fields: &[Field],
    location: Location,
    position: u64,
) -> Result<Record, ReadError> {
    if row.len() != fields.len() {
        return Err(ReadError::new(
            location,
            format!(
                "{} fields, but the first row has {}",
                row.len(),
                fields.len()
            ),
        ));
    }
    let (mut vector, mut id, mut text) = (Vec::new(), None, None);
    for (i, (value, field)) in row.iter().zip(fields).enumerate() {
        match field {
            Field::Component => vector.push(
                value
                    .trim()
                    .parse::<f32>()
                    .map_err(|_| ReadError::new(location, not_a_number(i, value)))?,
            ),
            Field::VectorJson => {
                let items: Vec<serde_json::Value> = serde_json::from_str(value).map_err(|e| {
                    ReadError::new(
                        location,
                        format!("field {} is not a JSON array of numbers: {e}", i + 1),
                    )
                })?;
                vector = json_vector(&items, location)?;
            }
            Field::Id => {
                let v = value.trim();
                if !v.is_empty() {
                    id = Some(v.parse::<i64>().map_err(|_| {
                        ReadError::new(location, format!("id {v:?} is not an integer"))
                    })?);
                }
            }
            Field::Text => text = Some(value.to_string()),
            Field::Ignored => {}
        }
    }
    Ok(Record {
        position,
        location,
        id,
        text,
        vector,
    })
}

#[cfg(test)]
mod tests;
