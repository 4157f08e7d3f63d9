//! libSQL's vector blobs, text and arithmetic, reproduced bit for bit.
//!
//! Everything here was measured against libSQL itself (the `libsql` Python package 0.1.11,
//! which bundles SQLite 3.45.1 with libSQL's vector extension) and cross-checked with libSQL's
//! public sources. `tests/python/fixtures/libsql_oracle.json` holds the captured answers and
//! `tests/python/test_libsql_compat.py` replays them against vecsql's loadable extension.
//!
//! # Blob layouts
//!
//! All numbers are little-endian. A blob of **even** length is FLOAT32 with no type byte; a blob
//! of **odd** length ends with a type byte: 1 FLOAT32, 2 FLOAT64, 3 FLOAT1BIT, 4 FLOAT8,
//! 5 FLOAT16, 6 FLOATB16. `n` is the number of dimensions.
//!
//! ```text
//! FLOAT32   [f32 × n]                                          (libSQL never writes type 1,
//!           [f32 × n][01]                                       but reads it)
//! FLOAT64   [f64 × n][02]
//! FLOAT16   [IEEE binary16 × n][05]
//! FLOATB16  [bfloat16 × n][06]
//! FLOAT8    [u8 code × n][00 × p][alpha f32][shift f32][00][p][04]      p = (4 - n % 4) % 4
//! FLOAT1BIT [bits, LSB first, ⌈n/8⌉ bytes][00 if ⌈n/8⌉ is even][t][03]
//!           t = 8 × (bytes before the type byte) − n, always 8..=23
//! ```
//!
//! Examples: `vector16('[1,2]')` = `003C 0040 05`; `vector8('[1,2,3]')` =
//! `00 7F FF | 00 | 8180003C | 0000803F | 00 01 | 04`; `vector1bit('[1,1,1]')` = `07 0D 03`;
//! `vector1bit('[1]'×9)` = `FF 01 | 00 | 17 | 03`. Empty vectors exist: `vector('[]')` is the
//! empty blob, `vector64('[]')` is `02`, `vector1bit('[]')` is `00 10 03`, `vector8('[]')` is
//! eight zero bytes then `00 00 04`.
//!
//! Reading, libSQL derives `n` from the length alone: FLOAT1BIT `n = 8 × body − t`, FLOAT8
//! `n = body − 10 − p` (body = blob without the type byte), then checks FLOAT8's data size. It
//! is laxer than this module in two places, both refused here with a message: an even-length
//! blob whose length is not a multiple of 4 (libSQL silently drops the tail bytes), and a
//! trailing-count byte that makes `n` negative (libSQL answers "out of memory"). The pad byte
//! before FLOAT8's `p` is never checked, by libSQL or here. libSQL never initialises FLOAT8's
//! `p` alignment bytes, so its blobs carry heap garbage there; [`encode`] writes zeros, and
//! byte comparisons with libSQL must skip those bytes.
//!
//! # Conversions (`vectorNN(x)`)
//!
//! Text is parsed into FLOAT64 for `vector64()` and into FLOAT32 for every other function
//! (f64 → f32 rounds to nearest even), then converted:
//!
//! | to        | rule |
//! |-----------|------|
//! | FLOAT32   | from f64: round to nearest; from f16/bf16: exact; FLOAT8: `alpha*code + shift` in f32; bit: ±1 |
//! | FLOAT64   | widen the FLOAT32 value (FLOAT8 dequantises in f32 first); bit: ±1 |
//! | FLOAT16   | value → f32 → binary16, round to nearest even; overflow → ±Inf; subnormal results truncate the shifted mantissa before rounding, so they can be one ulp below the correctly rounded value ([`f16_from_f32`]) |
//! | FLOATB16  | value → f32, then **truncate** to the top 16 bits (`-1.99999` → `-1.99219`, NaN payloads can turn into Inf) ([`bf16_from_f32`]) |
//! | FLOAT1BIT | bit = value > 0 in the source's precision (f64 for FLOAT64, so `1e-50` is 1 there but 0 through FLOAT32); `-0` and NaN → 0 |
//! | FLOAT8    | `shift = min`, `alpha = (max − min) / 255` in f32, `code = clip((v − shift) / alpha)` where clip gives 0 below 0, 255 above 255, 0 for NaN (all-equal vectors: 0/0), else ⌊q + 0.5⌋ ([`quantize_float8`]); from FLOAT64 the min/max comparisons and the division happen in f64 ([`quantize_float8_f64`]) |
//!
//! Same-type conversions copy the data unchanged (FLOAT8 keeps its codes, alpha and shift).
//!
//! # Text
//!
//! `vector_extract()` prints FLOAT32 and FLOAT64 directly and converts the other types to
//! FLOAT32 first; each element is SQLite's `printf("%g")`: six significant digits rounded half
//! away from zero (glibc rounds half to even: `123456.5` → `123457`, not `123456`), `-0` prints
//! `0`, infinities `Inf`/`-Inf`, NaN `NaN` ([`format_g`]).
//!
//! Input is `[` numbers separated by `,` `]`, with these quirks ([`parse_text`]): whitespace
//! anywhere is dropped, even inside a number (`[1 2]` is `[12]`); numbers are SQLite's
//! (`+3`, `.5`, `5.`, `1E5`, no hex, no `inf`/`nan`; `1e400` is Inf); `[]` is an empty vector;
//! text ends at the first NUL. SQLite 3.45's decimal conversion is not always correctly rounded:
//! about 1 in 2500 six-digit decimals (and more with large exponents) lands one ulp away in
//! FLOAT64. This module rounds correctly, so `vector64()` of such text can differ from libSQL in
//! the last bit; FLOAT32 and narrower types are not affected in practice.
//!
//! # Distances
//!
//! Both arguments must have the same type (text counts as FLOAT32) and then the same length;
//! the type check comes first. Results pass through `float` before becoming SQL doubles, even for
//! FLOAT64. A NaN result (cosine with a zero vector) becomes SQL NULL in SQLite.
//!
//! | type | `vector_distance_cos` | `vector_distance_l2` |
//! |------|----------------------|---------------------|
//! | FLOAT32, FLOAT16, FLOATB16 | f32 sums of `x*y`, `x*x`, `y*y`; `1 − dot / sqrt(f64(n1*n2))`, `n1*n2` in f32, so it can overflow (distance 1, or NULL when `dot` overflows too) or underflow to 0 (distance ±Inf) | f32 sum of squared differences, sqrt |
//! | FLOAT64 | same in f64, then rounded to f32 | same in f64, rounded to f32 |
//! | FLOAT8 | from integer sums of codes: `dot = a1*a2*Σxy + a1*s2*Σx + a2*s1*Σy + s1*s2*n`, norms likewise, all f32 | per element dequantised difference, f32 |
//! | FLOAT1BIT | **Hamming distance** (number of differing bits), not a cosine | error |
//!
//! The f32 arithmetic is part of the answer: `[1e20,2e20,-3e20]` against `[-1e20,5e19,3e20]`
//! gives cosine NULL and L2 Inf for FLOAT32, `[1e-20,2e-20]` against `[3e-20,-1e-20]` gives
//! cosine −Inf; FLOAT8's cosine of near-identical vectors is off by ~1e-6 absolute. libSQL's
//! Hamming distance would also count stray bits past `n` in a hand-made blob; [`decode`] clears
//! them, and libSQL never writes any.
//!
//! Error messages, verbatim: `vector_distance: vectors must have the same type: 1 != 2`,
//! `vector_distance: vectors must have the same length: 2 != 3`,
//! `vector_distance: l2 distance is not supported for float1bit vectors`,
//! `vector: unexpected value type: got NULL, expected TEXT or BLOB`,
//! `vector: max size exceeded 65536` (text) / `vector: max size exceeded: 65537 > 65536` (blob).
//! The maximum is 65536 dimensions.

mod blob;
mod convert;
mod distance;
#[cfg(test)]
mod tests;
mod text;

pub use blob::*;
pub use convert::*;
pub use distance::*;
pub use text::*;
