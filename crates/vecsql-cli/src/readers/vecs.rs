//! `.fvecs` / `.bvecs`, the TEXMEX format of SIFT/GIST: per vector, an int32 dimension, then
//! that many float32 or uint8 elements (little-endian).

use std::io::{self, Read};

use super::{truncated, Location, Parse, Parsed, ReadError, MAX_DIMENSIONS};

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Float,
    Byte,
}

/// The records of a vecs file and, when the file's size is known, how many there are (from
/// the first vector's dimension).
pub(super) fn parse(
    mut reader: impl Read + 'static,
    size: Option<u64>,
    kind: Kind,
) -> (impl Parse, Option<u64>) {
    let (element_bytes, name) = match kind {
        Kind::Float => (4, ".fvecs"),
        Kind::Byte => (1, ".bvecs"),
    };
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
    let mut read = 0u64;
    let mut buf = Vec::new();
    let mut next = move || -> Result<Option<Parsed>, ReadError> {
        let location = Location::Vector(read + 1);
        let mut dim_bytes = first_header;
        let header = match pending.take() {
            Some(first) => first,
            None => read_exact_or_eof(&mut reader, &mut dim_bytes),
        };
        if !header.map_err(|e| truncated(location, e))? {
            return Ok(None);
        }
        read += 1;
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
        let vector = match kind {
            Kind::Float => buf
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Kind::Byte => buf.iter().map(|&b| f32::from(b)).collect(),
        };
        Ok(Some(Parsed::unnamed(location, vector)))
    };
    (move || next().transpose(), estimated_len)
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
