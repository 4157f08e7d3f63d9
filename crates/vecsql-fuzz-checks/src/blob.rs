//! Every blob decoder: sqlite-vec's headerless float32/int8/bit layouts and libSQL's six
//! typed layouts (`vecsql_core::format`), the conversions and distances over what they decode,
//! every SIMD kernel variant against the scalar reference, and the SQL functions taking blobs.

use half::{bf16, f16};
use rusqlite::types::Value;
use vecsql_core::distance;
use vecsql_core::format::{libsql, sqlite_vec};
use vecsql_core::{ElementType, Vector};

use super::{sql, LIBSQL_CONSTRUCTORS, LIBSQL_TYPES};

pub fn blob(data: &[u8]) {
    sqlite_vec_layouts(data);
    libsql_layouts(data);
    kernels(data);
    sql::with_shared_connection(|conn| sql_functions(conn, data));
}

fn sqlite_vec_layouts(data: &[u8]) {
    match sqlite_vec::decode_f32(data) {
        Ok(v) => {
            assert_eq!(v.len() * 4, data.len());
            assert_eq!(sqlite_vec::encode_f32(&v), data, "float32 round trip");
        }
        Err(_) => assert!(
            data.is_empty() || !data.len().is_multiple_of(4),
            "valid float32 refused"
        ),
    }
    match sqlite_vec::decode_i8(data) {
        Ok(v) => assert_eq!(sqlite_vec::encode_i8(&v), data, "int8 round trip"),
        Err(_) => assert!(data.is_empty(), "valid int8 refused"),
    }
    match sqlite_vec::decode_bit(data) {
        Ok(v) => {
            assert_eq!(v.dims(), data.len() * 8);
            assert_eq!(v.bytes(), data, "bit round trip");
        }
        Err(_) => assert!(data.is_empty(), "valid bit refused"),
    }
}

/// Same elements, bit for bit (NaN payloads included).
fn same_bits(a: &Vector, b: &Vector) -> bool {
    match (a, b) {
        (Vector::Float32(x), Vector::Float32(y)) => x
            .iter()
            .map(|v| v.to_bits())
            .eq(y.iter().map(|v| v.to_bits())),
        (Vector::Float64(x), Vector::Float64(y)) => x
            .iter()
            .map(|v| v.to_bits())
            .eq(y.iter().map(|v| v.to_bits())),
        (Vector::Float16(x), Vector::Float16(y)) => x
            .iter()
            .map(|v| v.to_bits())
            .eq(y.iter().map(|v| v.to_bits())),
        (Vector::BFloat16(x), Vector::BFloat16(y)) => x
            .iter()
            .map(|v| v.to_bits())
            .eq(y.iter().map(|v| v.to_bits())),
        (Vector::Float8(x), Vector::Float8(y)) => {
            x.codes == y.codes
                && x.alpha.to_bits() == y.alpha.to_bits()
                && x.shift.to_bits() == y.shift.to_bits()
        }
        (Vector::Bit(x), Vector::Bit(y)) => x == y,
        (Vector::Int8(x), Vector::Int8(y)) => x == y,
        _ => false,
    }
}

fn libsql_layouts(data: &[u8]) {
    let Ok(v) = libsql::decode(data) else {
        return;
    };
    assert!(v.dimensions() <= vecsql_core::MAX_DIMENSIONS);
    let encoded = libsql::encode(&v).expect("every decoded vector encodes");
    let again = libsql::decode(&encoded).expect("an encoded vector decodes");
    assert!(same_bits(&v, &again), "{v:?} -> {encoded:?} -> {again:?}");
    // Layouts without padding or counts are reproduced byte for byte (a FLOAT32 blob with the
    // optional type byte 1 comes back without it).
    match v {
        Vector::Float32(_) if data.len() % 2 == 1 => assert_eq!(encoded, data[..data.len() - 1]),
        Vector::Float32(_) | Vector::Float64(_) | Vector::Float16(_) | Vector::BFloat16(_) => {
            assert_eq!(encoded, data)
        }
        _ => assert_eq!(encoded.last(), data.last(), "type byte"),
    }
    let _ = libsql::format_text(&v);
    for ty in LIBSQL_TYPES {
        let converted = libsql::convert(&v, ty).expect("libSQL types convert to each other");
        assert_eq!(converted.element_type(), ty);
        assert_eq!(converted.dimensions(), v.dimensions(), "{ty:?}");
        let blob = libsql::encode(&converted).expect("converted vector encodes");
        let back = libsql::decode(&blob).expect("converted blob decodes");
        assert!(
            same_bits(&back, &converted),
            "{ty:?}: {converted:?} -> {back:?}"
        );
        let _ = libsql::format_text(&converted);
        let _ = libsql::distance_cos(&converted, &converted).expect("same type and length");
        // libSQL has no L2 for FLOAT1BIT (its cosine of bits is a Hamming distance).
        let l2 = libsql::distance_l2(&converted, &converted);
        assert_eq!(l2.is_err(), ty == ElementType::Bit, "{ty:?}: {l2:?}");
        if ty != v.element_type() {
            assert!(
                libsql::distance_l2(&v, &converted).is_err(),
                "type mismatch accepted"
            );
        }
    }
    assert!(libsql::convert(&v, ElementType::Int8).is_err());
}

/// Splits `data` into two equal halves and runs every kernel variant on them: integer results
/// (int8 metrics except cosine, Hamming) must equal the scalar reference exactly; float
/// kernels must merely return.
fn kernels(data: &[u8]) {
    let half = data.len() / 2;
    let (a, b) = (&data[..half], &data[half..2 * half]);
    let variants = distance::variants();
    let reference = &variants[0];
    assert_eq!(reference.name, "scalar");
    let ai: Vec<i8> = a.iter().map(|&x| x as i8).collect();
    let bi: Vec<i8> = b.iter().map(|&x| x as i8).collect();
    let f32s = |s: &[u8]| -> Vec<f32> {
        s.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let halves = |s: &[u8]| -> Vec<u16> {
        s.chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    };
    let (af, bf) = (f32s(a), f32s(b));
    let (ah, bh) = (halves(a), halves(b));
    let a16: Vec<f16> = ah.iter().map(|&x| f16::from_bits(x)).collect();
    let b16: Vec<f16> = bh.iter().map(|&x| f16::from_bits(x)).collect();
    let ab16: Vec<bf16> = ah.iter().map(|&x| bf16::from_bits(x)).collect();
    let bb16: Vec<bf16> = bh.iter().map(|&x| bf16::from_bits(x)).collect();
    for k in &variants {
        for (name, f, g) in [
            ("l2_squared", k.i8.l2_squared, reference.i8.l2_squared),
            ("dot", k.i8.dot, reference.i8.dot),
            ("l1", k.i8.l1, reference.i8.l1),
        ] {
            assert_eq!(
                f(&ai, &bi).to_bits(),
                g(&ai, &bi).to_bits(),
                "{} i8 {name} differs from scalar",
                k.name
            );
        }
        let _ = (k.i8.cosine)(&ai, &bi);
        assert_eq!(
            (k.hamming_bits)(a, b),
            (reference.hamming_bits)(a, b),
            "{} hamming differs from scalar",
            k.name
        );
        for f in [k.f32.l2_squared, k.f32.dot, k.f32.l1, k.f32.cosine] {
            let _ = f(&af, &bf);
        }
        for f in [k.f16.l2_squared, k.f16.dot, k.f16.l1, k.f16.cosine] {
            let _ = f(&a16, &b16);
        }
        for f in [k.bf16.l2_squared, k.bf16.dot, k.bf16.l1, k.bf16.cosine] {
            let _ = f(&ab16, &bb16);
        }
    }
}

const ONE_ARG: [&str; 12] = [
    "vec_length(?1)",
    "vec_type(?1)",
    "vec_to_json(?1)",
    "vec_normalize(?1)",
    "vec_quantize_binary(?1)",
    "vec_quantize_int8(?1, 'unit')",
    "vec_quantize_int8(?1, -1.0, 1.0)",
    "vec_slice(?1, 0, 8)",
    "vec_slice(?1, 1, 3)",
    "vec_add(?1, ?1)",
    "vec_sub(?1, ?1)",
    "(select count(*) from vec_each(?1))",
];

const TWO_ARGS: [&str; 9] = [
    "vec_distance_l2(?1, ?2)",
    "vec_distance_l1(?1, ?2)",
    "vec_distance_cosine(?1, ?2)",
    "vec_distance_dot(?1, ?2)",
    "vec_distance_hamming(?1, ?2)",
    "vec_add(?1, ?2)",
    "vec_sub(?1, ?2)",
    "vector_distance_cos(?1, ?2)",
    "vector_distance_l2(?1, ?2)",
];

fn sql_functions(conn: &rusqlite::Connection, data: &[u8]) {
    // The blob as each of sqlite-vec's types (the wrappers set the subtype), then every
    // function over it.
    for wrap in ["?1", "vec_f32(?1)", "vec_int8(?1)", "vec_bit(?1)"] {
        for expr in ONE_ARG {
            let expr = expr.replace("?1", wrap);
            let _ = sql::value(conn, &format!("select {expr}"), [data]);
        }
    }
    match (
        sql::value(conn, "select vec_length(?1)", [data]),
        sqlite_vec::decode_f32(data),
    ) {
        (Ok(Value::Integer(n)), Ok(v)) => assert_eq!(n as usize, v.len()),
        (Ok(other), _) => panic!("vec_length({data:?}) = {other:?}"),
        (Err(_), Ok(v)) => assert!(v.len() > vecsql_core::MAX_DIMENSIONS),
        (Err(_), Err(_)) => {}
    }
    match (
        sql::value(conn, "select vector_extract(?1)", [data]),
        libsql::decode(data),
    ) {
        (Ok(Value::Text(text)), Ok(v)) => assert_eq!(text, libsql::format_text(&v)),
        (Ok(other), _) => panic!("vector_extract({data:?}) = {other:?}"),
        (Err(message), Ok(v)) => panic!("vector_extract refused {v:?}: {message}"),
        (Err(_), Err(_)) => {}
    }
    for function in LIBSQL_CONSTRUCTORS {
        let _ = sql::value(
            conn,
            &format!("select vector_extract({function}(?1))"),
            [data],
        );
    }
    // Two vectors: the first byte says where to cut; also the blob against itself.
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    let (a, b) = data.split_at(cut);
    for expr in TWO_ARGS {
        let _ = sql::value(conn, &format!("select {expr}"), [a, b]);
        let _ = sql::value(conn, &format!("select {expr}"), [data, data]);
    }
    for (wa, wb) in [
        ("vec_int8(?1)", "vec_int8(?2)"),
        ("vec_bit(?1)", "vec_bit(?2)"),
    ] {
        for expr in TWO_ARGS {
            let expr = expr.replace("?1", wa).replace("?2", wb);
            let _ = sql::value(conn, &format!("select {expr}"), [a, b]);
        }
    }
}
