//! Reading the vectors and ids back out of a Faiss index stream, as sqlite-vss stored one per
//! column in `{table}_index` (Faiss's `write_index` output). No Faiss dependency: the layout is
//! Faiss's documented I/O format (`faiss/impl/index_write.cpp`): a four-character code naming
//! the index class, a common header, then the class's fields; vectors are `u64` element counts
//! followed by the elements, little-endian.
//!
//! Indexes that keep every vector exactly are read: `IndexFlat` (`IxF2`, `IxFI`, `IxFl`), the
//! id wrappers `IndexIDMap`/`IndexIDMap2` (`IxMp`, `IxM2`), `IndexIVFFlat` (`IwFl`) and
//! `IndexHNSWFlat` (`IHNf`, whose graph is skipped: only its flat storage is read). Indexes
//! holding lossy codes (PQ, SQ, LSH, pre-transforms, ...) are reported as [`FaissError::Lossy`].

use std::fmt;

/// The contents of an index: one `(id, vector)` per stored vector.
#[derive(Debug, Clone, PartialEq)]
pub struct FaissContents {
    pub dimensions: usize,
    /// Faiss's metric code: 0 inner product, 1 L2, 2 L1, 3 Linf, ...
    pub metric: i32,
    pub rows: Vec<(i64, Vec<f32>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaissError {
    /// The index stores lossy codes (named by its Faiss class code): the vectors are gone.
    Lossy(String),
    /// An index class this reader does not know.
    Unsupported(String),
    /// The stream ends early or contradicts itself.
    Malformed(String),
}

impl fmt::Display for FaissError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaissError::Lossy(code) => write!(
                f,
                "its Faiss index (class code {code}) keeps only compressed codes, not the \
                 vectors"
            ),
            FaissError::Unsupported(code) => {
                write!(
                    f,
                    "its Faiss index class (code {code}) is not one vecsql can read"
                )
            }
            FaissError::Malformed(what) => write!(f, "its Faiss index is malformed: {what}"),
        }
    }
}

type Result<T> = std::result::Result<T, FaissError>;

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                FaissError::Malformed(format!(
                    "{n} bytes wanted at offset {} of {}",
                    self.pos,
                    self.bytes.len()
                ))
            })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn i32(&mut self) -> Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    fn i64(&mut self) -> Result<i64> {
        Ok(self.u64()? as i64)
    }
    fn len(&mut self) -> Result<usize> {
        usize::try_from(self.u64()?).map_err(|_| FaissError::Malformed("huge length".into()))
    }
    fn fourcc(&mut self) -> Result<String> {
        Ok(String::from_utf8_lossy(self.take(4)?).into_owned())
    }
    /// A `WRITEVECTOR` of `elem`-byte elements, as raw bytes.
    fn vector(&mut self, elem: usize) -> Result<&'a [u8]> {
        let n = self.len()?;
        let bytes = n
            .checked_mul(elem)
            .ok_or_else(|| FaissError::Malformed("huge vector".into()))?;
        self.take(bytes)
    }
}

fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn i64s(b: &[u8]) -> Vec<i64> {
    b.chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

struct Header {
    d: usize,
    ntotal: usize,
    metric: i32,
}

fn header(r: &mut Reader<'_>) -> Result<Header> {
    let d = r.i32()?;
    let ntotal = r.i64()?;
    r.i64()?; // two placeholders Faiss writes for compatibility
    r.i64()?;
    r.u8()?; // is_trained
    let metric = r.i32()?;
    if metric > 1 {
        r.take(4)?; // metric_arg
    }
    match (usize::try_from(d), usize::try_from(ntotal)) {
        (Ok(d), Ok(ntotal)) if d > 0 => Ok(Header { d, ntotal, metric }),
        _ => Err(FaissError::Malformed(format!(
            "dimension {d}, count {ntotal}"
        ))),
    }
}

/// Vectors and labels of the index at the reader's position.
fn read_index(r: &mut Reader<'_>) -> Result<FaissContents> {
    let code = r.fourcc()?;
    match code.as_str() {
        "IxF2" | "IxFI" | "IxFl" => {
            let h = header(r)?;
            // Flat codes are written as a count of 4-byte words (Faiss >= 1.7.3) or of bytes
            // (older releases): tell them apart by what the remaining stream can hold.
            let count = r.len()?;
            let want = h.ntotal * h.d;
            let data = if count == want {
                r.take(count * 4)?
            } else if count == want * 4 {
                r.take(count)?
            } else {
                return Err(FaissError::Malformed(format!(
                    "flat storage of {count} for {} vectors of {}",
                    h.ntotal, h.d
                )));
            };
            let vectors = floats(data);
            Ok(FaissContents {
                dimensions: h.d,
                metric: h.metric,
                rows: vectors
                    .chunks_exact(h.d)
                    .enumerate()
                    .map(|(i, v)| (i as i64, v.to_vec()))
                    .collect(),
            })
        }
        "IxMp" | "IxM2" => {
            let h = header(r)?;
            let inner = read_index(r)?;
            let id_map = i64s(r.vector(8)?);
            let rows = inner
                .rows
                .into_iter()
                .map(|(label, v)| {
                    usize::try_from(label)
                        .ok()
                        .and_then(|i| id_map.get(i))
                        .map(|&id| (id, v))
                        .ok_or_else(|| FaissError::Malformed(format!("no id for label {label}")))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(FaissContents {
                dimensions: h.d,
                metric: h.metric,
                rows,
            })
        }
        "IwFl" => {
            let h = header(r)?;
            let _nlist = r.u64()?;
            let _nprobe = r.u64()?;
            read_index(r)?; // the coarse quantizer (centroids)
            let direct_map_type = r.u8()?;
            r.vector(8)?;
            if direct_map_type == 2 {
                r.vector(16)?; // hashtable pairs
            }
            let rows = inverted_lists(r, h.d * 4)?
                .into_iter()
                .map(|(id, code)| (id, floats(&code)))
                .collect();
            Ok(FaissContents {
                dimensions: h.d,
                metric: h.metric,
                rows,
            })
        }
        "IHNf" => {
            let h = header(r)?;
            r.vector(8)?; // assign_probas (double)
            r.vector(4)?; // cum_nneighbor_per_level
            r.vector(4)?; // levels
            r.vector(8)?; // offsets
            r.vector(4)?; // neighbors
            for _ in 0..5 {
                r.i32()?; // entry_point, max_level, efConstruction, efSearch, upper_beam
            }
            let storage = read_index(r)?;
            Ok(FaissContents {
                dimensions: h.d,
                metric: h.metric,
                rows: storage.rows,
            })
        }
        "IxPq" | "IxSQ" | "IwSq" | "IwPQ" | "IwQR" | "IHNp" | "IHNs" | "IHN2" | "IxHe" | "IxPT"
        | "IxRq" | "IxLS" | "IxPR" | "IxPL" | "IwRQ" | "IwLS" | "IwPR" | "IwPL" | "IPfs"
        | "IwPf" | "Ix2L" | "IwSh" | "IxLa" | "IxRF" | "INSp" | "INSs" => {
            Err(FaissError::Lossy(code))
        }
        _ => Err(FaissError::Unsupported(code)),
    }
}

/// `(id, code)` pairs of an `ArrayInvertedLists` (`ilar`).
fn inverted_lists(r: &mut Reader<'_>, expected_code_size: usize) -> Result<Vec<(i64, Vec<u8>)>> {
    let code = r.fourcc()?;
    if code != "ilar" {
        return Err(FaissError::Unsupported(format!("inverted lists {code}")));
    }
    let nlist = r.len()?;
    let code_size = r.len()?;
    if code_size != expected_code_size {
        return Err(FaissError::Malformed(format!(
            "code size {code_size}, expected {expected_code_size}"
        )));
    }
    let list_type = r.fourcc()?;
    let raw = r.vector(8)?;
    let sizes: Vec<usize> = raw
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")) as usize)
        .collect();
    let list_sizes: Vec<usize> = match list_type.as_str() {
        "full" if sizes.len() == nlist => sizes,
        "sprs" => {
            let mut full = vec![0; nlist];
            for pair in sizes.chunks_exact(2) {
                if pair[0] < nlist {
                    full[pair[0]] = pair[1];
                }
            }
            full
        }
        other => {
            return Err(FaissError::Malformed(format!(
                "inverted list layout {other}"
            )))
        }
    };
    let mut out = Vec::new();
    for n in list_sizes {
        if n == 0 {
            continue;
        }
        let codes = r.take(n.saturating_mul(code_size))?;
        let ids = i64s(r.take(n.saturating_mul(8))?);
        out.extend(
            ids.into_iter()
                .zip(codes.chunks_exact(code_size).map(<[u8]>::to_vec)),
        );
    }
    Ok(out)
}

/// Every `(id, vector)` stored in a Faiss index stream.
pub fn read(bytes: &[u8]) -> Result<FaissContents> {
    let mut r = Reader { bytes, pos: 0 };
    read_index(&mut r)
}

/// The Faiss class code at the start of a stream, for messages.
pub fn class_code(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(4)]).into_owned()
}
