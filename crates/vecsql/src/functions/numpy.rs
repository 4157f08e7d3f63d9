//! sqlite-vec's numpy entry point (`sqlite3_vec_numpy_init`): `vec_npy_file(path)` and the
//! `vec_npy_each(input)` table function, which yields one float32 vector per row of a `.npy`
//! array given as a blob or as a file.
//!
//! Only what sqlite-vec reads is accepted: format version 1 headers (2-byte header length),
//! `'descr': '<f4'`, `'fortran_order': False`, and a shape of `(n, d)` or `(d,)` (one vector).
//! Error messages are sqlite-vec's, so callers matching on them keep working. Files are streamed
//! through a buffer instead of read whole.

use std::ffi::CStr;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

use crate::error::{SqlError, SqlResult};
use crate::ffi::connection::Connection;
use crate::ffi::index_info::{ConstraintOp, IndexInfo};
use crate::ffi::pointer::PointerValue;
use crate::ffi::vtab::{ColumnContext, CreateArgs, FilterArg, ModuleKind, VTab, VTabCursor};
use crate::ffi::{SqlArg, SqlOutput, SqlValue};

/// Pointer-type name of `vec_npy_file()` results. Deliberately not sqlite-vec's name: a
/// process with both extensions loaded must never hand one's object to the other.
pub const NPY_FILE_POINTER: &CStr = c"vecsql-npy-file";

/// sqlite-vec's float32 subtype, set on vectors read from a blob.
const SUBTYPE_FLOAT32: u32 = 223;

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Magic, major and minor version, 2-byte header length.
const PREAMBLE: usize = 10;
/// Vectors per file read, as in sqlite-vec.
const VECTORS_PER_READ: usize = 1024;
const PARSE_ERROR: &str = "Error parsing numpy array: ";

/// `vec_npy_file(path)`: a handle for `vec_npy_each` to read the file at `path`; an SQL NULL
/// to anything else.
pub struct NpyFile {
    path: Option<PathBuf>,
}

pub fn vec_npy_file(args: &[SqlArg<'_>]) -> SqlResult<SqlOutput> {
    let path = match args.first().map(|a| a.value) {
        None | Some(SqlValue::Null) => None,
        Some(SqlValue::Text(t)) | Some(SqlValue::Blob(t)) => Some(path_from_bytes(t)),
        Some(SqlValue::Integer(i)) => Some(PathBuf::from(i.to_string())),
        Some(SqlValue::Real(f)) => Some(PathBuf::from(crate::ffi::sqlite_format_f(f))),
    };
    Ok(SqlOutput::Pointer(PointerValue::new(
        NPY_FILE_POINTER,
        NpyFile { path },
    )))
}

#[cfg(unix)]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

/// What a `.npy` header says about the array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpyShape {
    /// Number of vectors.
    pub vectors: usize,
    /// Elements per vector.
    pub dimensions: usize,
}

impl NpyShape {
    fn vector_bytes(&self) -> usize {
        self.dimensions.saturating_mul(4)
    }

    fn data_bytes(&self) -> u128 {
        self.vectors as u128 * self.vector_bytes() as u128
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Colon,
    Comma,
    /// A quoted string, quotes included.
    Str(&'a [u8]),
    False,
    Number(&'a [u8]),
}

/// The header dictionary's tokens, read one at a time; None on anything else or at the end.
struct Scanner<'a> {
    rest: &'a [u8],
}

impl<'a> Scanner<'a> {
    fn next_token(&mut self) -> Option<Token<'a>> {
        let start = self
            .rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
        let s = &self.rest[start..];
        let (token, len) = match s[0] {
            b'(' => (Token::LParen, 1),
            b')' => (Token::RParen, 1),
            b'{' => (Token::LBrace, 1),
            b'}' => (Token::RBrace, 1),
            b':' => (Token::Colon, 1),
            b',' => (Token::Comma, 1),
            b'\'' => {
                let close = s[1..].iter().position(|&b| b == b'\'')? + 1;
                (Token::Str(&s[..=close]), close + 1)
            }
            b'F' if s.starts_with(b"False") => (Token::False, 5),
            b'0'..=b'9' => {
                let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
                (Token::Number(&s[..n]), n)
            }
            _ => return None,
        };
        self.rest = &s[len..];
        Some(token)
    }
}

fn parse_error(what: &str) -> SqlError {
    SqlError::new(format!("{PARSE_ERROR}{what}"))
}

fn number(digits: &[u8]) -> usize {
    // Digits only (the scanner checked); saturate rather than wrap on absurd sizes, which
    // then fail the data-size check.
    digits.iter().fold(0usize, |n, &d| {
        n.saturating_mul(10).saturating_add((d - b'0') as usize)
    })
}

/// Parses the header dictionary, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape':
/// (2, 4), }`. Every value must be followed by a comma, as numpy writes it.
pub fn parse_header(header: &[u8]) -> SqlResult<NpyShape> {
    let mut scanner = Scanner { rest: header };
    // sqlite-vec only refuses a header whose first character starts no token at all; any
    // token (not just '{') is skipped as the opening brace. Kept, so the same files load.
    if scanner.next_token().is_none() {
        return Err(parse_error("numpy header did not start with '{'"));
    }
    let mut shape = None;
    let mut descr = false;
    loop {
        let key = match scanner.next_token() {
            None => return Err(parse_error("expected key in numpy header")),
            Some(Token::RBrace) => break,
            Some(Token::Str(key)) => key,
            Some(_) => return Err(parse_error("expected a string as key in numpy header")),
        };
        if scanner.next_token() != Some(Token::Colon) {
            return Err(parse_error("expected a ':' after key in numpy header"));
        }
        match key {
            b"'descr'" => match scanner.next_token() {
                Some(Token::Str(b"'<f4'")) => descr = true,
                Some(Token::Str(_)) => {
                    return Err(parse_error(
                        "Only '<f4' values are supported in sqlite-vec numpy functions",
                    ))
                }
                _ => return Err(parse_error("expected a string value after 'descr' key")),
            },
            b"'fortran_order'" => {
                if scanner.next_token() != Some(Token::False) {
                    return Err(parse_error(
                        "Only fortran_order = False is supported in sqlite-vec numpy functions",
                    ));
                }
            }
            b"'shape'" => shape = Some(parse_shape(&mut scanner)?),
            _ => return Err(parse_error("unknown key in numpy header")),
        }
        if scanner.next_token() != Some(Token::Comma) {
            return Err(parse_error("unknown extra token after value"));
        }
    }
    // sqlite-vec reads uninitialised memory when these keys are missing; refuse instead.
    if !descr {
        return Err(parse_error("numpy header has no 'descr' key"));
    }
    shape.ok_or_else(|| parse_error("numpy header has no 'shape' key"))
}

fn parse_shape(scanner: &mut Scanner<'_>) -> SqlResult<NpyShape> {
    if scanner.next_token() != Some(Token::LParen) {
        return Err(parse_error("Expected left parenthesis '(' after shape key"));
    }
    let first = match scanner.next_token() {
        Some(Token::Number(n)) => number(n),
        _ => return Err(parse_error("Expected an initial number in shape value")),
    };
    if scanner.next_token() != Some(Token::Comma) {
        return Err(parse_error("Expected comma after first shape value"));
    }
    match scanner.next_token() {
        None => Err(parse_error("unexpected header EOF while parsing shape")),
        Some(Token::Number(n)) => {
            if scanner.next_token() != Some(Token::RParen) {
                return Err(parse_error("expected right parenthesis after shape value"));
            }
            Ok(NpyShape {
                vectors: first,
                dimensions: number(n),
            })
        }
        // `(d,)`: one vector of d elements; `(0,)` is an empty array.
        Some(Token::RParen) => Ok(NpyShape {
            vectors: usize::from(first != 0),
            dimensions: first,
        }),
        Some(_) => Err(parse_error("unknown type in shape value")),
    }
}

fn header_length(preamble: &[u8]) -> usize {
    u16::from_le_bytes([preamble[8], preamble[9]]) as usize
}

/// Validates an in-memory `.npy` array; returns its shape and where the data starts.
pub fn parse_buffer(buf: &[u8]) -> SqlResult<(NpyShape, usize)> {
    if buf.len() < PREAMBLE {
        return Err(SqlError::new("numpy array too short"));
    }
    if &buf[..6] != MAGIC {
        return Err(SqlError::new(
            "numpy array does not contain the 'magic' header",
        ));
    }
    let data_start = PREAMBLE + header_length(buf);
    if buf.len() < data_start {
        return Err(SqlError::new("numpy array header length is invalid"));
    }
    let shape = parse_header(&buf[PREAMBLE..data_start])?;
    let found = buf.len() - data_start;
    if shape.data_bytes() != found as u128 {
        return Err(SqlError::new(format!(
            "numpy array error: Expected a data size of {}, found {found}",
            shape.data_bytes()
        )));
    }
    Ok((shape, data_start))
}

/// Opens a `.npy` file and validates its header; the reader is left at the data.
fn open_file(file: &NpyFile) -> SqlResult<(NpyShape, BufReader<File>)> {
    let not_open = || SqlError::new("Could not open numpy file");
    let path = file.path.as_ref().ok_or_else(not_open)?;
    let mut f = File::open(path).map_err(|_| not_open())?;
    let io = |e: std::io::Error| SqlError::new(format!("numpy array file read error: {e}"));
    let size = f.seek(SeekFrom::End(0)).map_err(io)?;
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut preamble = [0u8; PREAMBLE];
    if f.read_exact(&mut preamble).is_err() {
        return Err(SqlError::new("numpy array file too short"));
    }
    if &preamble[..6] != MAGIC {
        return Err(SqlError::new(
            "numpy array file does not contain the 'magic' header",
        ));
    }
    let header_len = header_length(&preamble);
    let data_start = (PREAMBLE + header_len) as u64;
    if size < data_start {
        return Err(SqlError::new("numpy array file header length is invalid"));
    }
    let mut header = vec![0u8; header_len];
    if f.read_exact(&mut header).is_err() {
        return Err(SqlError::new("numpy array file header length is invalid"));
    }
    let shape = parse_header(&header)?;
    let found = size - data_start;
    if shape.data_bytes() != found as u128 {
        return Err(SqlError::new(format!(
            "numpy array file error: Expected a data size of {}, found {found}",
            shape.data_bytes()
        )));
    }
    let capacity = shape
        .vector_bytes()
        .saturating_mul(VECTORS_PER_READ)
        .clamp(8 * 1024, 16 * 1024 * 1024);
    Ok((shape, BufReader::with_capacity(capacity, f)))
}

const COLUMN_VECTOR: i32 = 0;
const COLUMN_INPUT: i32 = 1;

/// The `vec_npy_each` table function.
pub struct VecNpyEach;

impl VTab for VecNpyEach {
    type Aux = ();
    type Cursor = VecNpyEachCursor;
    const KIND: ModuleKind = ModuleKind::EponymousOnly;

    fn connect(_: &Connection, _: &(), _: &CreateArgs, _: bool) -> SqlResult<(String, Self)> {
        Ok((
            "CREATE TABLE x(vector, input hidden)".to_string(),
            VecNpyEach,
        ))
    }

    fn best_index(&self, info: &mut IndexInfo<'_>) -> SqlResult<()> {
        let input = info
            .constraints()
            .into_iter()
            .find(|c| c.column == COLUMN_INPUT && c.op == ConstraintOp::Eq && c.usable);
        let Some(input) = input else {
            return Err(SqlError::new("input argument is required"));
        };
        info.use_constraint(input.index, 1, true);
        info.set_estimated_cost(100_000.0);
        info.set_estimated_rows(100_000);
        Ok(())
    }

    fn open(&self) -> SqlResult<VecNpyEachCursor> {
        Ok(VecNpyEachCursor {
            source: Source::Empty,
            row: 0,
        })
    }
}

enum Source {
    Empty,
    /// A copy of the blob's data section.
    Buffer {
        data: Vec<u8>,
        shape: NpyShape,
    },
    /// The file, positioned after `current`; `left` vectors are still unread.
    File {
        reader: BufReader<File>,
        current: Vec<u8>,
        left: usize,
        eof: bool,
    },
}

pub struct VecNpyEachCursor {
    source: Source,
    row: usize,
}

impl VecNpyEachCursor {
    /// Reads the next vector of a file source into `current`, or marks the end.
    fn advance_file(&mut self) {
        if let Source::File {
            reader,
            current,
            left,
            eof,
        } = &mut self.source
        {
            // A zero-size vector reads nothing, which sqlite-vec treats as the end.
            if *left == 0 || current.is_empty() || reader.read_exact(current).is_err() {
                *eof = true;
            } else {
                *left -= 1;
            }
        }
    }
}

impl VTabCursor for VecNpyEachCursor {
    type Table = VecNpyEach;

    fn filter(
        &mut self,
        _: &VecNpyEach,
        _: i32,
        _: Option<&str>,
        args: &[FilterArg<'_>],
    ) -> SqlResult<()> {
        let arg = args
            .first()
            .ok_or_else(|| SqlError::new("input argument is required"))?;
        self.row = 0;
        self.source = Source::Empty;
        if let Some(file) = arg.pointer::<NpyFile>(NPY_FILE_POINTER) {
            let (shape, reader) = open_file(&file)?;
            self.source = Source::File {
                reader,
                current: vec![0; shape.vector_bytes()],
                left: shape.vectors,
                eof: false,
            };
            self.advance_file();
        } else {
            let owned;
            let bytes: &[u8] = match arg.value() {
                SqlValue::Blob(b) | SqlValue::Text(b) => b,
                SqlValue::Null => &[],
                SqlValue::Integer(i) => {
                    owned = i.to_string().into_bytes();
                    &owned
                }
                SqlValue::Real(f) => {
                    owned = crate::ffi::sqlite_format_f(f).into_bytes();
                    &owned
                }
            };
            let (shape, start) = parse_buffer(bytes)?;
            self.source = Source::Buffer {
                data: bytes[start..].to_vec(),
                shape,
            };
        }
        Ok(())
    }

    fn next(&mut self, _: &VecNpyEach) -> SqlResult<()> {
        self.row += 1;
        self.advance_file();
        Ok(())
    }

    fn eof(&self) -> bool {
        match &self.source {
            Source::Empty => true,
            Source::Buffer { shape, .. } => self.row >= shape.vectors,
            Source::File { eof, .. } => *eof,
        }
    }

    fn column(&self, _: &VecNpyEach, column: i32, out: &mut ColumnContext) -> SqlResult<()> {
        if column != COLUMN_VECTOR {
            out.set(SqlOutput::Null);
            return Ok(());
        }
        out.set(match &self.source {
            Source::Empty => SqlOutput::Null,
            Source::Buffer { data, shape } => {
                let n = shape.vector_bytes();
                let start = self.row * n;
                SqlOutput::Blob {
                    bytes: data.get(start..start + n).unwrap_or_default().to_vec(),
                    subtype: Some(SUBTYPE_FLOAT32),
                }
            }
            // sqlite-vec sets no subtype on vectors read from files.
            Source::File { current, .. } => SqlOutput::blob(current.clone()),
        });
        Ok(())
    }

    fn rowid(&self, _: &VecNpyEach) -> SqlResult<i64> {
        Ok(self.row as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> SqlResult<NpyShape> {
        parse_header(s.as_bytes())
    }

    #[test]
    fn numpy_headers_parse() {
        let shape = header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }   \n");
        assert_eq!(
            shape.unwrap(),
            NpyShape {
                vectors: 2,
                dimensions: 4
            }
        );
        let one = header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }").unwrap();
        assert_eq!((one.vectors, one.dimensions), (1, 3));
        let empty = header("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }").unwrap();
        assert_eq!((empty.vectors, empty.dimensions), (0, 0));
    }

    #[test]
    fn header_errors_use_sqlite_vec_messages() {
        let err = |s: &str| header(s).unwrap_err().message;
        assert!(err("c'descr'").ends_with("numpy header did not start with '{'"));
        assert!(err("").ends_with("numpy header did not start with '{'"));
        let paren = header("('descr': '<f4', 'shape': (1, 2), }").unwrap();
        assert_eq!((paren.vectors, paren.dimensions), (1, 2));
        assert!(err("{   ").ends_with("expected key in numpy header"));
        assert!(err("{'descr': '<f8', }")
            .ends_with("Only '<f4' values are supported in sqlite-vec numpy functions"));
        assert!(
            err("{'shape': (2, 3, 4), }").ends_with("expected right parenthesis after shape value")
        );
        assert!(err("{'descr': '<f4' }").ends_with("unknown extra token after value"));
        assert!(err("{'shape': (2, 3), }").ends_with("numpy header has no 'descr' key"));
        assert!(err("{'descr': '<f4', }").ends_with("numpy header has no 'shape' key"));
        let huge = header("{'shape': (99999999999999999999999999, 3), 'descr': '<f4', }");
        assert_eq!(huge.unwrap().vectors, usize::MAX);
    }

    #[test]
    fn buffer_checks_the_data_size() {
        let mut npy = b"\x93NUMPY\x01\x00".to_vec();
        let h = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }\n";
        npy.extend_from_slice(&(h.len() as u16).to_le_bytes());
        npy.extend_from_slice(h);
        npy.extend_from_slice(&[0; 8]);
        assert_eq!(parse_buffer(&npy).unwrap().1, 10 + h.len());
        npy.pop();
        assert_eq!(
            parse_buffer(&npy).unwrap_err().message,
            "numpy array error: Expected a data size of 8, found 7"
        );
    }
}
