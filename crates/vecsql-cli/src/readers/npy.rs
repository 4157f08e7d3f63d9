//! NumPy `.npy`: a 1-D or 2-D (rows x dimensions) C-order array of float32, float16 or
//! float64, read through `npyz`.

use std::io::{self, Read};

use half::f16;

use super::{truncated, Location, Parse, Parsed, ReadError, MAX_DIMENSIONS};

/// The records of an `.npy` file, its number of rows and dimensions (from its header).
pub(super) fn parse(reader: impl Read + 'static) -> Result<(impl Parse, u64, usize), ReadError> {
    let file_error = |message: String| ReadError::new(Location::File, message);
    let file = npyz::NpyFile::new(reader)
        .map_err(|e| file_error(format!("not a readable .npy file: {e}")))?;
    if file.order() == npyz::Order::Fortran {
        return Err(file_error(
            "Fortran-order .npy arrays are not supported; save np.ascontiguousarray(a)".into(),
        ));
    }
    let shape = file.shape().to_vec();
    let (rows, dims) = match shape.as_slice() {
        [d] => (1, *d),
        [n, d] => (*n, *d),
        _ => {
            return Err(file_error(format!(
                "expected a 1-D or 2-D array (rows x dimensions), found shape {shape:?}"
            )))
        }
    };
    let dims = usize::try_from(dims).unwrap_or(usize::MAX);
    if dims == 0 || dims > MAX_DIMENSIONS {
        return Err(file_error(format!(
            "{dims} dimensions per vector; expected 1 to {MAX_DIMENSIONS}"
        )));
    }
    let float_size = match file.dtype() {
        npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float => Some(t.size_field()),
        _ => None,
    };
    let dtype_error = |e: npyz::DTypeError| file_error(e.to_string());
    let mut elements: Box<dyn Iterator<Item = io::Result<f32>>> = match float_size {
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
        _ => {
            return Err(file_error(format!(
                "dtype {} is not supported; use float32, float16 or float64",
                file.dtype().descr()
            )))
        }
    };
    let mut read = 0u64;
    let next = move || {
        if read >= rows {
            return None;
        }
        read += 1;
        let location = Location::Vector(read);
        let vector = (0..dims).map(|_| match elements.next() {
            Some(Ok(x)) => Ok(x),
            Some(Err(e)) => Err(truncated(location, e)),
            None => Err(ReadError::new(
                location,
                "the file ends early (truncated .npy?)",
            )),
        });
        Some(
            vector
                .collect::<Result<Vec<f32>, _>>()
                .map(|vector| Parsed::unnamed(location, vector)),
        )
    };
    Ok((next, rows, dims))
}
