use std::io::Write;

use half::f16;

use super::*;

fn read_all(bytes: &[u8], format: Format) -> Result<Vec<Record>, ReadError> {
    from_reader(
        std::io::Cursor::new(bytes.to_vec()),
        format,
        Options::default(),
    )?
    .collect()
}

fn vectors(records: &[Record]) -> Vec<Vec<f32>> {
    records.iter().map(|r| r.vector.clone()).collect()
}

/// Everything up to the first error, and the error.
fn until_error(bytes: &[u8], format: Format) -> (Vec<Record>, ReadError) {
    let mut ok = Vec::new();
    for item in from_reader(
        std::io::Cursor::new(bytes.to_vec()),
        format,
        Options::default(),
    )
    .unwrap()
    {
        match item {
            Ok(r) => ok.push(r),
            Err(e) => return (ok, e),
        }
    }
    panic!("no error in {} records", ok.len());
}

/// A `.npy` file as numpy writes it: magic, version 1.0, a header padded to 64 bytes.
fn npy_bytes(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

#[test]
fn npy_float32_float16_float64() {
    let values = [1.0f32, -2.5, 0.25, 4.0, 5.0, 6.0];
    let f32_payload: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
    let f16_payload: Vec<u8> = values
        .iter()
        .flat_map(|x| f16::from_f32(*x).to_le_bytes())
        .collect();
    let f64_payload: Vec<u8> = values
        .iter()
        .flat_map(|x| f64::from(*x).to_le_bytes())
        .collect();
    let expected = vec![vec![1.0, -2.5, 0.25], vec![4.0, 5.0, 6.0]];
    for (descr, payload) in [
        ("<f4", &f32_payload),
        ("<f2", &f16_payload),
        ("<f8", &f64_payload),
    ] {
        let bytes = npy_bytes(descr, "(2, 3)", payload);
        let records = read_all(&bytes, Format::Npy).unwrap();
        assert_eq!(vectors(&records), expected, "{descr}");
        assert_eq!(records[1].position, 1);
        assert_eq!(records[1].location, Location::Vector(2));
        let reader =
            from_reader(std::io::Cursor::new(bytes), Format::Npy, Options::default()).unwrap();
        assert_eq!(reader.estimated_len, Some(2));
    }
    // A 1-D array is one vector.
    let one = npy_bytes("<f4", "(3,)", &f32_payload[..12]);
    assert_eq!(
        vectors(&read_all(&one, Format::Npy).unwrap()),
        vec![vec![1.0, -2.5, 0.25]]
    );
}

#[test]
fn npy_reads_the_shipped_demo_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/pypi-5k.f16.npy");
    let reader = open(&path, None, Options::default()).unwrap();
    assert_eq!(reader.estimated_len, Some(5000));
    let records: Vec<Record> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(records.len(), 5000);
    assert!(records.iter().all(|r| r.vector.len() == 384));
    let norm: f32 = records[0].vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-2, "unit vectors, got norm {norm}");
}

#[test]
fn npy_malformed() {
    let payload: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    // Truncated in the middle of the second vector: the first is read, then an error.
    let truncated = npy_bytes("<f4", "(2, 2)", &payload[..12]);
    let (ok, err) = until_error(&truncated, Format::Npy);
    assert_eq!(ok.len(), 1);
    assert_eq!(err.location, Location::Vector(2));
    assert!(err.to_string().starts_with("vector 2: "), "{err}");
    // Unsupported dtype, shape, and not an npy file at all.
    let ints = npy_bytes("<i4", "(1, 4)", &payload);
    let e = read_all(&ints, Format::Npy).unwrap_err();
    assert!(e.message.contains("not supported"), "{e}");
    let cube = npy_bytes("<f4", "(1, 2, 2)", &payload);
    assert!(read_all(&cube, Format::Npy)
        .unwrap_err()
        .message
        .contains("1-D or 2-D"));
    let e = read_all(b"not numpy at all", Format::Npy).unwrap_err();
    assert!(e.message.contains("not a readable .npy file"), "{e}");
    // NaN is refused with its vector and element.
    let nan: Vec<u8> = [1.0f32, f32::NAN]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let e = read_all(&npy_bytes("<f4", "(1, 2)", &nan), Format::Npy).unwrap_err();
    assert_eq!(
        e.to_string(),
        "vector 1: element 1 is NaN, not a finite number"
    );
}

fn fvecs(vectors: &[&[f32]]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in vectors {
        out.extend_from_slice(&(v.len() as i32).to_le_bytes());
        for x in *v {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

#[test]
fn fvecs_and_bvecs() {
    let bytes = fvecs(&[&[1.0, 2.0], &[3.0, 4.5]]);
    let records = read_all(&bytes, Format::Fvecs).unwrap();
    assert_eq!(vectors(&records), vec![vec![1.0, 2.0], vec![3.0, 4.5]]);
    let reader = open_temp(&bytes, "fvecs");
    assert_eq!(reader.estimated_len, Some(2));

    let mut b = Vec::new();
    for v in [[0u8, 255, 7], [1, 2, 3]] {
        b.extend_from_slice(&3i32.to_le_bytes());
        b.extend_from_slice(&v);
    }
    let records = read_all(&b, Format::Bvecs).unwrap();
    assert_eq!(
        vectors(&records),
        vec![vec![0.0, 255.0, 7.0], vec![1.0, 2.0, 3.0]]
    );
    assert!(read_all(&[], Format::Fvecs).unwrap().is_empty());
}

#[test]
fn fvecs_malformed() {
    // A second vector with another dimension.
    let bytes = fvecs(&[&[1.0, 2.0], &[3.0, 4.0, 5.0]]);
    let (ok, err) = until_error(&bytes, Format::Fvecs);
    assert_eq!(ok.len(), 1);
    assert_eq!(
        err.to_string(),
        "vector 2: 3 dimensions, but the first vector has 2"
    );
    // Truncated payload.
    let bytes = fvecs(&[&[1.0, 2.0], &[3.0, 4.0]]);
    let (ok, err) = until_error(&bytes[..bytes.len() - 2], Format::Fvecs);
    assert_eq!(ok.len(), 1);
    assert_eq!(err.location, Location::Vector(2));
    assert!(err.message.contains("truncated"), "{err}");
    // Truncated dimension header.
    let (_, err) = until_error(&bytes[..14], Format::Fvecs);
    assert_eq!(err.location, Location::Vector(2));
    // A nonsense dimension (e.g. a .bvecs or text file read as .fvecs).
    let (ok, err) = until_error(b"hello world, not fvecs", Format::Fvecs);
    assert!(ok.is_empty());
    assert!(err.message.contains("dimension header says"), "{err}");
}

#[test]
fn jsonl_arrays_and_objects() {
    let text = "[1, 2.5, -3]\n\n{\"id\": 42, \"vector\": [4, 5, 6], \"text\": \"hello\"}\n\
                {\"embedding\": \"[7, 8, 9]\"}\n";
    let records = read_all(text.as_bytes(), Format::Jsonl).unwrap();
    assert_eq!(
        vectors(&records),
        vec![
            vec![1.0, 2.5, -3.0],
            vec![4.0, 5.0, 6.0],
            vec![7.0, 8.0, 9.0]
        ]
    );
    assert_eq!(records[1].named.id, Some(42));
    assert_eq!(records[1].named.text.as_deref(), Some("hello"));
    assert_eq!(records[1].location, Location::Line(3));
    assert_eq!(records[2].position, 2);
    assert_eq!(records[2].location, Location::Line(4));
}

#[test]
fn jsonl_malformed_lines_report_their_line_number() {
    let cases = [
        ("[1, 2]\n[1, 2\n", 2, "invalid JSON"),
        (
            "[1, 2]\n\n[1, \"x\"]\n",
            3,
            "element 1 is not a number: \"x\"",
        ),
        (
            "[1, 2]\n[1, 2, 3]\n",
            2,
            "3 dimensions, but the first vector has 2",
        ),
        ("{\"v\": [1]}\n", 1, "no \"vector\""),
        (
            "[1]\n{\"id\": \"a\", \"vector\": [1]}\n",
            2,
            "\"id\" must be an integer",
        ),
        ("[1]\n[]\n", 2, "empty vector"),
        ("[1]\n[1e39]\n", 2, "element 0 is inf"),
        ("\"text\"\n", 1, "expected an array"),
    ];
    for (text, line, message) in cases {
        let (ok, err) = until_error(text.as_bytes(), Format::Jsonl);
        assert_eq!(err.location, Location::Line(line), "{text:?}: {err}");
        assert!(err.message.contains(message), "{text:?}: {err}");
        assert!(ok.len() < line as usize);
    }
}

#[test]
fn csv_without_and_with_header() {
    let records = read_all(b"1,2,3\n4,5,6\n", Format::Csv).unwrap();
    assert_eq!(
        vectors(&records),
        vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]
    );
    assert_eq!(records[1].location, Location::Line(2));

    let text = "id,text,vector\n7,\"hello, world\",\"[1, 2]\"\n8,bye,\"[3, 4]\"\n";
    let records = read_all(text.as_bytes(), Format::Csv).unwrap();
    assert_eq!(vectors(&records), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    assert_eq!(records[0].named.id, Some(7));
    assert_eq!(records[0].named.text.as_deref(), Some("hello, world"));
    assert_eq!(records[1].location, Location::Line(3));

    let text = "id,v0,v1,label\n1,0.5,0.25,x\n";
    let records = read_all(text.as_bytes(), Format::Csv).unwrap();
    assert_eq!(vectors(&records), vec![vec![0.5, 0.25]]);
    assert_eq!(records[0].named.id, Some(1));

    let records = read_all(b"1\t2\n3\t4\n", Format::Tsv).unwrap();
    assert_eq!(vectors(&records), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
}

#[test]
fn csv_malformed_rows_report_their_line_number() {
    let cases: [(&str, u64, &str); 5] = [
        ("1,2\n3,x\n", 2, "field 2 is not a number: \"x\""),
        ("1,2\n3,4,5\n", 2, "3 fields, but the first row has 2"),
        (
            "id,vector\n1,\"[1, 2]\"\n2,\"[1,\"\n",
            3,
            "not a JSON array",
        ),
        (
            "id,vector\n1,\"[1,2]\"\nx,\"[1,2]\"\n",
            3,
            "\"id\" must be an integer, found \"x\"",
        ),
        ("name,label\na,b\n", 1, "names no vector"),
    ];
    for (text, line, message) in cases {
        let (_, err) = until_error(text.as_bytes(), Format::Csv);
        assert_eq!(err.location, Location::Line(line), "{text:?}: {err}");
        assert!(err.message.contains(message), "{text:?}: {err}");
    }
}

#[test]
fn formats_by_extension_and_line_estimates() {
    assert_eq!(Format::from_path(Path::new("a/b.NPY")), Some(Format::Npy));
    assert_eq!(
        Format::from_path(Path::new("x.ndjson")),
        Some(Format::Jsonl)
    );
    assert_eq!(Format::from_path(Path::new("x.tsv")), Some(Format::Tsv));
    assert_eq!(Format::from_path(Path::new("x.bin")), None);
    let err = open(Path::new("vectors.bin"), None, Options::default())
        .err()
        .unwrap();
    assert!(err.message.contains("--format"), "{err}");
    let reader = open_temp(b"[1]\n[2]\n[3]", "jsonl");
    assert_eq!(reader.estimated_len, Some(3));
    assert_eq!(reader.count(), 3);
}

fn open_temp(bytes: &[u8], ext: &str) -> VectorReader {
    let mut file = tempfile::Builder::new()
        .suffix(&format!(".{ext}"))
        .tempfile()
        .unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    let (_, path) = file.keep().unwrap();
    let reader = open(&path, None, Options::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    reader
}

#[test]
fn an_ambiguous_first_row_is_an_error_unless_declared() {
    let read = |text: &str, header| -> Result<Vec<Record>, ReadError> {
        from_reader(
            std::io::Cursor::new(text.as_bytes().to_vec()),
            Format::Csv,
            Options {
                header,
                ..Options::default()
            },
        )?
        .collect()
    };
    // A blank or non-numeric cell among numbers: neither clearly a header nor a data row.
    let err = read("0.1,,0.3\n0.4,0.5,0.6\n", None).unwrap_err();
    assert_eq!(err.location, Location::Line(1));
    assert!(
        err.message.starts_with("field 2 is empty; pass --header"),
        "{err}"
    );
    let err = read("0.1,0.2,x,0.4\n0.5,0.6,0.7,0.8\n", None).unwrap_err();
    assert!(
        err.message.starts_with("field 3 is not a number: \"x\""),
        "{err}"
    );
    // Declared: a header of numbers, or a first row that must be data.
    let records = read("0,1,2\n0.1,0.2,0.3\n", Some(true)).unwrap();
    assert_eq!(vectors(&records), vec![vec![0.1, 0.2, 0.3]]);
    assert_eq!(records[0].location, Location::Line(2));
    let err = read("v0,v1\n1,2\n", Some(false)).unwrap_err();
    assert_eq!(err.message, "field 1 is not a number: \"v0\"");
    let err = read("1,,3\n", Some(false)).unwrap_err();
    assert_eq!(err.message, "field 2 is empty");
    // Unambiguous: every field a name.
    let records = read("v0,v1\n1,2\n", None).unwrap();
    assert_eq!(vectors(&records), vec![vec![1.0, 2.0]]);
}

fn read_columns(
    text: &str,
    format: Format,
    columns: &[(&str, ValueType, bool)],
) -> Result<Vec<Record>, ReadError> {
    let options = Options {
        header: None,
        columns: columns
            .iter()
            .map(|(name, ty, nullable)| ColumnSpec {
                name: name.to_string(),
                ty: *ty,
                nullable: *nullable,
            })
            .collect(),
    };
    from_reader(
        std::io::Cursor::new(text.as_bytes().to_vec()),
        format,
        options,
    )?
    .collect()
}

const EVERY_TYPE: [(&str, ValueType, bool); 5] = [
    ("year", ValueType::Integer, false),
    ("score", ValueType::Float, false),
    ("ok", ValueType::Boolean, false),
    ("genre", ValueType::Text, false),
    ("note", ValueType::Any, true),
];

#[test]
fn json_objects_and_csv_headers_fill_columns_alike() {
    use rusqlite::types::Value::{Integer, Null, Real, Text};
    let jsonl = "{\"vector\": [1, 2], \"year\": 2001, \"score\": 0.5, \"ok\": true, \"Genre\": \"rock\", \"note\": 3}\n\
                 {\"vector\": [3, 4], \"year\": 2010, \"score\": 2, \"ok\": 0, \"genre\": \"jazz\"}\n";
    let csv = "v0,v1,year,score,ok,genre,note\n1,2,2001,0.5,true,rock,3\n3,4,2010,2,0,jazz,\n";
    let from_json = read_columns(jsonl, Format::Jsonl, &EVERY_TYPE).unwrap();
    let from_csv = read_columns(csv, Format::Csv, &EVERY_TYPE).unwrap();
    assert_eq!(vectors(&from_csv), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    assert_eq!(vectors(&from_json), vectors(&from_csv));
    let row = |year, score, ok, genre: &str| {
        vec![Integer(year), Real(score), Integer(ok), Text(genre.into())]
    };
    let mut first = row(2001, 0.5, 1, "rock");
    first.push(Integer(3));
    assert_eq!(from_json[0].named.columns, first);
    // CSV fields are text: an untyped column keeps them as written.
    first[4] = Text("3".into());
    assert_eq!(from_csv[0].named.columns, first);
    let mut second = row(2010, 2.0, 0, "jazz");
    second.push(Null);
    assert_eq!(from_json[1].named.columns, second);
    second[4] = Text(String::new());
    assert_eq!(from_csv[1].named.columns, second);
}

#[test]
fn column_type_errors_name_the_line_and_the_field() {
    let ok = "{\"vector\": [1], \"year\": 1, \"score\": 1, \"ok\": 1, \"genre\": \"a\"}\n";
    let cases = [
        ("\"year\": 1.5", "\"year\" must be an integer, found 1.5"),
        (
            "\"score\": \"x\"",
            "\"score\" must be a number, found \"x\"",
        ),
        (
            "\"ok\": 2",
            "\"ok\" must be a boolean (true, false, 1 or 0), found 2",
        ),
        ("\"genre\": 5", "\"genre\" must be text, found 5"),
        ("\"genre\": null", "\"genre\" is null"),
    ];
    for (field, message) in cases {
        let key = field.split(':').next().unwrap();
        let line = ok.replace(
            &format!("{key}: {}", if key == "\"genre\"" { "\"a\"" } else { "1" }),
            field,
        );
        let err = read_columns(&format!("{ok}{line}"), Format::Jsonl, &EVERY_TYPE).unwrap_err();
        assert_eq!(err.location, Location::Line(2), "{line}");
        assert_eq!(err.message, message, "{line}");
    }
    let err = read_columns(
        "{\"vector\": [1], \"year\": 1}\n",
        Format::Jsonl,
        &EVERY_TYPE,
    )
    .unwrap_err();
    assert_eq!(err.message, "no \"score\" field");
    let csv = "v0,year,score,ok,genre\n1,1,1,1,a\n1,2001,1,yes,a\n";
    let err = read_columns(csv, Format::Csv, &EVERY_TYPE[..4]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3: \"ok\" must be a boolean (true, false, 1 or 0), found \"yes\""
    );
    let err = read_columns("v0,year\n1,\n", Format::Csv, &EVERY_TYPE[..1]).unwrap_err();
    assert_eq!(err.to_string(), "line 2: \"year\" is empty");
    let err = read_columns("v0,year\n1,1\n", Format::Csv, &EVERY_TYPE[..2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1: header [\"v0\", \"year\"] has no column score"
    );
}

#[test]
fn columns_need_field_names() {
    let columns = &EVERY_TYPE[..1];
    for (text, format) in [("[1, 2]\n", Format::Jsonl), ("1,2\n", Format::Csv)] {
        let err = read_columns(text, format, columns).unwrap_err();
        assert_eq!(err.location, Location::Line(1));
        assert!(
            err.message.contains("no field names, so the columns year"),
            "{err}"
        );
    }
    let npy = npy_bytes("<f4", "(1, 1)", &1f32.to_le_bytes());
    let options = Options {
        header: None,
        columns: vec![ColumnSpec {
            name: "year".into(),
            ty: ValueType::Integer,
            nullable: false,
        }],
    };
    let err = from_reader(std::io::Cursor::new(npy), Format::Npy, options)
        .err()
        .unwrap();
    assert!(
        err.message.starts_with("a .npy file has no field names"),
        "{err}"
    );
    // A requested column is not a vector component, whatever its name.
    let records = read_columns(
        "v0,v1,d7\n1,2,3\n",
        Format::Csv,
        &[("d7", ValueType::Integer, false)],
    )
    .unwrap();
    assert_eq!(vectors(&records), vec![vec![1.0, 2.0]]);
    assert_eq!(
        records[0].named.columns,
        vec![rusqlite::types::Value::Integer(3)]
    );
}
