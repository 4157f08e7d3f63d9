use proptest::prelude::*;

use super::*;

/// Splits `a, b(c, d), e` on top-level commas, as SQLite does before calling the module.
fn split(definition: &str) -> Vec<String> {
    let (mut args, mut current, mut depth, mut quoted) = (Vec::new(), String::new(), 0i32, false);
    for c in definition.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                args.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    args.push(current.trim().to_string());
    args
}

fn parse(definition: &str) -> Result<TableDefinition, SchemaError> {
    parse_definition(&split(definition))
}

fn ok(definition: &str) -> TableDefinition {
    parse(definition).unwrap_or_else(|e| panic!("{definition}: {e}"))
}

fn err(definition: &str) -> String {
    match parse(definition) {
        Ok(def) => panic!("{definition}: accepted as {def:?}"),
        Err(e) => e.to_string(),
    }
}

fn vector(definition: &str) -> VectorColumn {
    ok(definition).vector_columns().next().unwrap().def.clone()
}

#[test]
fn vector_types_and_their_spellings() {
    for (ty, element) in [
        ("float", ElementType::Float32),
        ("FLOAT", ElementType::Float32),
        ("f32", ElementType::Float32),
        ("F32", ElementType::Float32),
        ("int8", ElementType::Int8),
        ("i8", ElementType::Int8),
        ("bit", ElementType::Bit),
        ("Bit", ElementType::Bit),
        ("float16", ElementType::Float16),
        ("f16", ElementType::Float16),
        ("bfloat16", ElementType::BFloat16),
        ("BF16", ElementType::BFloat16),
    ] {
        let v = vector(&format!("emb {ty}[16]"));
        assert_eq!(
            (v.element, v.dimensions, v.index),
            (element, 16, None),
            "{ty}"
        );
        let default = if element == ElementType::Bit {
            Metric::Hamming
        } else {
            Metric::L2
        };
        assert_eq!(v.distance_metric, default, "{ty}");
    }
    assert_eq!(ElementType::BFloat16.name(), "bfloat16");
}

#[test]
fn whitespace_case_and_leading_zeros_are_free() {
    for definition in [
        "emb float[4] distance_metric=cosine",
        "  emb\tfloat [ 4 ]\n distance_metric = cosine ",
        "EMB FLOAT[04] DISTANCE_METRIC=COSINE",
        "emb float[0004] Distance_Metric=Cosine",
    ] {
        let v = vector(definition);
        assert_eq!(v.dimensions, 4, "{definition}");
        assert_eq!(v.distance_metric, Metric::Cosine, "{definition}");
    }
    assert_eq!(ok("EMB float[4]").columns[0].name, "EMB");
}

#[test]
fn metrics_per_element_type() {
    for (definition, metric) in [
        ("e float[4] distance_metric=l2", Metric::L2),
        ("e float[4] distance_metric=L1", Metric::L1),
        ("e float[4] distance_metric=dot", Metric::Dot),
        ("e int8[4] distance_metric=cosine", Metric::Cosine),
        ("e int8[4] distance_metric=l1", Metric::L1),
        ("e f16[4] distance_metric=cosine", Metric::Cosine),
        ("e bf16[4] distance_metric=dot", Metric::Dot),
        ("e bit[8] distance_metric=hamming", Metric::Hamming),
        ("e bit[8] distance_metric=HAMMING", Metric::Hamming),
    ] {
        assert_eq!(vector(definition).distance_metric, metric, "{definition}");
    }
    assert_eq!(Metric::Cosine.name(), "cosine");
}

#[test]
fn dimension_limits() {
    assert_eq!(vector("e float[1]").dimensions, 1);
    assert_eq!(vector("e float[8192]").dimensions, MAX_DIMENSIONS);
    assert_eq!(vector("e bit[8192]").dimensions, 8192);
    assert_eq!(vector("e int8[8192]").dimensions, 8192);
}

#[test]
fn primary_keys() {
    for (definition, key_type) in [
        ("id integer primary key, e float[4]", KeyType::Integer),
        ("id INT PRIMARY KEY, e float[4]", KeyType::Integer),
        ("id text primary key, e float[4]", KeyType::Text),
        (
            "id integer primary key autoincrement, e float[4]",
            KeyType::Integer,
        ),
        (
            "id integer primary key not null, e float[4]",
            KeyType::Integer,
        ),
        ("id text  primary\n key NOT NULL, e float[4]", KeyType::Text),
        ("e float[4], rowid integer primary key", KeyType::Integer),
    ] {
        let def = ok(definition);
        let pk = def.primary_key().unwrap();
        assert_eq!(pk.def, key_type, "{definition}");
        assert_eq!(pk.index, 0);
    }
    assert!(ok("e float[4]").primary_key().is_none());
}

#[test]
fn partition_keys() {
    let def = ok("e float[4], user_id integer partition key, Tenant TEXT PARTITION KEY not null");
    let keys: Vec<_> = def
        .partition_keys()
        .map(|k| (k.index, k.name, k.def))
        .collect();
    assert_eq!(
        keys,
        [
            (0, "user_id", KeyType::Integer),
            (1, "Tenant", KeyType::Text)
        ]
    );
    ok(
        "p1 int partition key, p2 int partition key, p3 int partition key, \
        p4 int partition key, e float[4]",
    );
}

#[test]
fn metadata_types_and_their_spellings() {
    for (ty, metadata) in [
        ("text", MetadataType::Text),
        ("TEXT", MetadataType::Text),
        ("integer", MetadataType::Integer),
        ("int", MetadataType::Integer),
        ("int64", MetadataType::Integer),
        ("integer64", MetadataType::Integer),
        ("float", MetadataType::Float),
        ("double", MetadataType::Float),
        ("float64", MetadataType::Float),
        ("f64", MetadataType::Float),
        ("boolean", MetadataType::Boolean),
        ("bool", MetadataType::Boolean),
        ("text not null", MetadataType::Text),
        ("integer NOT  NULL", MetadataType::Integer),
    ] {
        let def = ok(&format!("e float[4], m {ty}"));
        let m = def.metadata_columns().next().unwrap();
        assert_eq!((m.name, m.def), ("m", metadata), "{ty}");
    }
}

#[test]
fn auxiliary_types_and_their_spellings() {
    for (column, aux) in [
        ("+payload", AuxiliaryType::Any),
        ("+payload not null", AuxiliaryType::Any),
        ("+payload blob", AuxiliaryType::Blob),
        ("+payload text", AuxiliaryType::Text),
        ("+ payload TEXT not null", AuxiliaryType::Text),
        ("+payload integer", AuxiliaryType::Integer),
        ("+payload int", AuxiliaryType::Integer),
        ("+payload float", AuxiliaryType::Float),
        ("+payload double", AuxiliaryType::Float),
    ] {
        let def = ok(&format!("e float[4], {column}"));
        let a = def.auxiliary_columns().next().unwrap();
        assert_eq!((a.name, a.def), ("payload", aux), "{column}");
    }
}

#[test]
fn chunk_size_option() {
    assert_eq!(ok("e float[4]").chunk_size, DEFAULT_CHUNK_SIZE);
    for (option, size) in [
        ("chunk_size=8", 8),
        ("CHUNK_SIZE = 16", 16),
        ("chunk_size=08", 8),
        ("chunk_size=4096", MAX_CHUNK_SIZE),
    ] {
        assert_eq!(
            ok(&format!("e float[4], {option}")).chunk_size,
            size,
            "{option}"
        );
    }
    // An option may come anywhere, and empty arguments are skipped as sqlite-vec skips them.
    let def = ok("chunk_size=64, , e float[4],");
    assert_eq!((def.chunk_size, def.columns.len()), (64, 1));
}

#[test]
fn declaration_order_and_helpers() {
    let def = ok(
        "a text, +aux1 blob, emb float[4], user_id integer partition key, \
                  chunk_size=8, id text primary key, b boolean, +aux2, small bit[8], c float",
    );
    let names: Vec<_> = def.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["a", "aux1", "emb", "user_id", "id", "b", "aux2", "small", "c"]
    );
    let vectors: Vec<_> = def
        .vector_columns()
        .map(|v| (v.position, v.index, v.name, v.def.element))
        .collect();
    assert_eq!(
        vectors,
        [
            (2, 0, "emb", ElementType::Float32),
            (7, 1, "small", ElementType::Bit)
        ]
    );
    let metadata: Vec<_> = def
        .metadata_columns()
        .map(|m| (m.position, m.index, m.name, m.def))
        .collect();
    assert_eq!(
        metadata,
        [
            (0, 0, "a", MetadataType::Text),
            (5, 1, "b", MetadataType::Boolean),
            (8, 2, "c", MetadataType::Float)
        ]
    );
    let aux: Vec<_> = def
        .auxiliary_columns()
        .map(|a| (a.position, a.index, a.name))
        .collect();
    assert_eq!(aux, [(1, 0, "aux1"), (6, 1, "aux2")]);
    let pk = def.primary_key().unwrap();
    assert_eq!((pk.position, pk.name, pk.def), (4, "id", KeyType::Text));
    // sqlite-vec declares the primary key first, then the rest in declaration order.
    let vtab: Vec<_> = def.vtab_columns().map(|c| c.name.as_str()).collect();
    assert_eq!(
        vtab,
        ["id", "a", "aux1", "emb", "user_id", "b", "aux2", "small", "c"]
    );
    assert_eq!(def.column("USER_ID").unwrap().name, "user_id");
    assert!(def.column("nope").is_none());
}

#[test]
fn index_clauses() {
    let v =
        vector("emb float[384] distance_metric=cosine indexed by hnsw(m=16, ef_construction=200)");
    assert_eq!(v.distance_metric, Metric::Cosine);
    let index = v.index.unwrap();
    assert_eq!(index.kind, "hnsw");
    assert_eq!(
        index.params,
        [
            ("m".into(), "16".into()),
            ("ef_construction".into(), "200".into())
        ]
    );
    assert_eq!(index.param("ef_construction"), Some("200"));
    assert_eq!(index.param("ef_search"), None);

    let v = vector("emb float[4] INDEXED BY HNSW()");
    assert_eq!(
        v.index,
        Some(IndexSpec {
            kind: "hnsw".into(),
            params: vec![]
        })
    );

    let v = vector(
        "emb float[4] indexed by diskann(neighbor_quantizer=binary, n_neighbors=64, \
         search_list_size=100)",
    );
    let index = v.index.unwrap();
    assert_eq!(index.kind, "diskann");
    assert_eq!(index.param("neighbor_quantizer"), Some("binary"));
    assert_eq!(index.params.len(), 3);

    // Index before the metric; keys folded, values as written, quotes and signs handled.
    let v = vector(
        "emb float[4] indexed by Rescore(Quantizer=BIT, oversample=8, bias=-0.5, label='it''s', \
         plus=+2) distance_metric=l1",
    );
    assert_eq!(v.distance_metric, Metric::L1);
    assert_eq!(
        v.index.unwrap().params,
        [
            ("quantizer".into(), "BIT".into()),
            ("oversample".into(), "8".into()),
            ("bias".into(), "-0.5".into()),
            ("label".into(), "it's".into()),
            ("plus".into(), "+2".into())
        ]
    );
}

#[test]
fn column_limits() {
    let columns = |prefix: &str, suffix: &str, n: usize| {
        (0..n)
            .map(|i| format!("{prefix}c{i} {suffix}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    ok(&columns("", "float[1]", 16));
    ok(&format!("e float[1], {}", columns("", "text", 16)));
    ok(&format!("e float[1], {}", columns("+", "text", 16)));
    let too_many = [
        (
            columns("", "float[1]", 17),
            "Too many provided vector columns, maximum 16",
        ),
        (
            format!("e float[1], {}", columns("", "integer", 17)),
            "More than 16 metadata columns were provided",
        ),
        (
            format!("e float[1], {}", columns("+", "", 17)),
            "More than 16 auxiliary columns were provided",
        ),
        (
            format!("e float[1], {}", columns("", "text partition key", 5)),
            "More than 4 partition key columns were provided",
        ),
    ];
    for (definition, message) in too_many {
        assert_eq!(
            err(&definition),
            format!("vec0 constructor error: {message}")
        );
    }
    // The 17th auxiliary or metadata column is refused for the count before its own syntax
    // is read, as sqlite-vec does (its suite forgets a comma after the 17th).
    assert_eq!(
        err(&format!("{} v float[1]", columns("+", "integer", 17))),
        "vec0 constructor error: More than 16 auxiliary columns were provided"
    );
    assert_eq!(
        err(&format!("{} v float[1]", columns("", "integer", 17))),
        "vec0 constructor error: More than 16 metadata columns were provided"
    );
    // The vector count is checked before the dimension, as sqlite-vec does.
    assert_eq!(
        err(&format!("{}, x float[9000]", columns("", "float[1]", 16))),
        "vec0 constructor error: Too many provided vector columns, maximum 16"
    );
}

/// Every error, with its full message. The sqlite-vec 0.1.9 message for each is in
/// `docs/vec0-definition.md`.
const ERRORS: &[(&str, &str)] = &[
    // Whole-table rules.
    ("", "At least one vector column is required"),
    ("n text, chunk_size=8", "At least one vector column is required"),
    ("id integer primary key, id2 text primary key, e float[4]",
     "More than one primary key definition was provided, vec0 only suports a single primary key column"),
    ("a float[1], A float[1]", "could not declare virtual table, 'duplicate column name: A'"),
    ("e float[4], +payload blob, PayLoad text",
     "could not declare virtual table, 'duplicate column name: PayLoad'"),
    ("e float[4], distance text, e float[4]",
     "could not declare virtual table, 'duplicate column name: e'"),
    ("id integer primary key, e float[4], id text",
     "could not declare virtual table, 'duplicate column name: id'"),
    ("e float[4], Distance text",
     "could not declare virtual table, 'duplicate column name: distance' (distance and k are the hidden columns of KNN queries)"),
    ("k float[4]",
     "could not declare virtual table, 'duplicate column name: k' (distance and k are the hidden columns of KNN queries)"),
    ("e float[4], ROWID text",
     "could not declare virtual table, 'duplicate column name: ROWID' (a table without a primary key has an implicit rowid column; declare 'rowid integer primary key' to name it)"),
    // Table options.
    ("e float[4], chunk_size=0", "chunk_size must be a non-zero positive integer"),
    ("e float[4], chunk_size=-8", "chunk_size must be a non-zero positive integer"),
    ("e float[4], chunk_size=abc", "chunk_size must be a non-zero positive integer"),
    ("e float[4], chunk_size=8.0", "chunk_size must be a non-zero positive integer"),
    ("e float[4], chunk_size=7", "chunk_size must be divisible by 8"),
    ("e float[4], chunk_size=4100", "chunk_size must be divisible by 8"),
    ("e float[4], chunk_size=99999999999", "chunk_size must be divisible by 8"),
    ("e float[4], chunk_size=4104", "chunk_size too large, provided 4104, maximum 4096"),
    ("e float[4], chunk_size=99999999999999999999999992",
     "chunk_size too large, provided 99999999999999999999999992, maximum 4096"),
    ("e float[4], chunk_size=8, chunk_size=16", "chunk_size was given more than once"),
    ("e float[4], chunk_size=", "could not parse table option 'chunk_size=': expected a value after '=', found nothing"),
    ("e float[4], chunk_size==8", "could not parse table option 'chunk_size==8': expected a value after '=', found '='"),
    ("e float[4], chunk_size=8 x", "could not parse table option 'chunk_size=8 x': unexpected 'x' after the value"),
    ("e float[4], chunk_size='8'", "could not parse table option 'chunk_size='8'': option values are written without quotes"),
    ("e float[4], chunk_sizex=8", "Unknown table option: chunk_sizex (the only table option is chunk_size)"),
    ("e float[4], chunk=8", "Unknown table option: chunk (the only table option is chunk_size)"),
    ("e float[4], Distance_Metric=cosine",
     "Unknown table option: Distance_Metric (distance_metric belongs to a vector column: write it after the column's type, as in 'embedding float[4] Distance_Metric=cosine')"),
    // Arguments that are no form at all.
    ("4", "Could not parse '4': expected a column definition such as 'embedding float[4]' or a table option such as 'chunk_size=256'"),
    ("e float[4], =8", "Could not parse '=8': expected a column definition such as 'embedding float[4]' or a table option such as 'chunk_size=256'"),
    ("e float[4], n", "Could not parse 'n': column 'n' has no type; expected e.g. 'n float[4]' for a vector or 'n text' for metadata"),
    ("e float[4], n =", "could not parse table option 'n =': expected a value after '=', found nothing"),
    ("e [4]", "Could not parse 'e [4]': expected a type after the column name, found '['"),
    ("\"my col\" float[4]", "Could not parse '\"my col\" float[4]': quoted column names are not supported; column names must start with a letter and contain only letters, digits and underscores"),
    ("[emb] float[4]", "Could not parse '[emb] float[4]': quoted column names are not supported; column names must start with a letter and contain only letters, digits and underscores"),
    ("_emb float[4]", "Could not parse '_emb float[4]': column names must start with a letter and contain only letters, digits and underscores"),
    ("éemb float[4]", "Could not parse 'éemb float[4]': expected a column definition such as 'embedding float[4]' or a table option such as 'chunk_size=256'"),
    ("e$mb float[4]", "Could not parse 'e$mb float[4]': expected a type after the column name, found '$'"),
    ("e float[4], n real", "Could not parse 'n real': unknown type 'real'; expected text, integer, float or boolean for a metadata column, or a vector type with dimensions such as float[4]"),
    ("e float[4], n blob", "Could not parse 'n blob': unknown type 'blob'; expected text, integer, float or boolean for a metadata column, or a vector type with dimensions such as float[4]"),
    ("e float[4], emb int[4]", "could not parse vector column 'emb int[4]': unknown vector type 'int'; expected float, f32, int8, i8, bit, float16, f16, bfloat16 or bf16"),
    // Vector columns.
    ("e float64[4]", "could not parse vector column 'e float64[4]': unknown vector type 'float64'; expected float, f32, int8, i8, bit, float16, f16, bfloat16 or bf16"),
    ("e bit", "could not parse vector column 'e bit': expected '[' and the number of dimensions after 'bit', as in 'e bit[8]'"),
    ("e float[0]", "could not parse vector column 'e float[0]': the dimension must be a positive integer, found 0"),
    ("e float[000]", "could not parse vector column 'e float[000]': the dimension must be a positive integer, found 0"),
    ("e float[-1]", "could not parse vector column 'e float[-1]': the dimension must be a positive integer, found '-1'"),
    ("e float[4.5]", "could not parse vector column 'e float[4.5]': the dimension must be a positive integer, found '4.5'"),
    ("e float[x]", "could not parse vector column 'e float[x]': the dimension must be a positive integer, found 'x'"),
    ("e float[", "could not parse vector column 'e float[': the dimension must be a positive integer, found nothing"),
    ("e float[]", "could not parse vector column 'e float[]': missing the number of dimensions inside '[...]'"),
    ("e float[4", "could not parse vector column 'e float[4': expected ']' after the dimension, found nothing"),
    ("e float[4 4]", "could not parse vector column 'e float[4 4]': expected ']' after the dimension, found '4'"),
    ("e float[8193]", "Dimension on vector column too large, provided 8193, maximum 8192 (column \"e\")"),
    ("e float[99999999999999999999999]", "Dimension on vector column too large, provided 99999999999999999999999, maximum 8192 (column \"e\")"),
    ("e float[9000], chunk_size=7", "Dimension on vector column too large, provided 9000, maximum 8192 (column \"e\")"),
    ("e bit[12]", "could not parse vector column 'e bit[12]': bit vector dimensions must be divisible by 8, found 12"),
    ("e float[4] distance_metric=hamming", "could not parse vector column 'e float[4] distance_metric=hamming': distance_metric=hamming needs a bit vector column, but this column is float32"),
    ("e int8[4] distance_metric=hamming", "could not parse vector column 'e int8[4] distance_metric=hamming': distance_metric=hamming needs a bit vector column, but this column is int8"),
    ("e bit[8] distance_metric=l2", "could not parse vector column 'e bit[8] distance_metric=l2': bit vector columns only support distance_metric=hamming, found 'l2'"),
    ("e bit[8] distance_metric=manhattan", "could not parse vector column 'e bit[8] distance_metric=manhattan': bit vector columns only support distance_metric=hamming, found 'manhattan'"),
    ("e float[4] distance_metric=cos", "could not parse vector column 'e float[4] distance_metric=cos': unknown distance_metric 'cos'; expected l2, cosine, l1 or dot"),
    ("e float[4] distance_metric='cosine'", "could not parse vector column 'e float[4] distance_metric='cosine'': expected a metric after 'distance_metric=', found the string 'cosine'"),
    ("e float[4] distance_metric=", "could not parse vector column 'e float[4] distance_metric=': expected a metric after 'distance_metric=', found nothing"),
    ("e float[4] distance_metric", "could not parse vector column 'e float[4] distance_metric': expected '=' after distance_metric, found nothing"),
    ("e float[4] distance_metric=l2 distance_metric=cosine", "could not parse vector column 'e float[4] distance_metric=l2 distance_metric=cosine': distance_metric was given more than once"),
    ("e float[4] distance=cosine", "could not parse vector column 'e float[4] distance=cosine': unexpected 'distance' after the vector type; expected distance_metric=... or indexed by ...(...)"),
    ("e float[4] not null", "could not parse vector column 'e float[4] not null': unexpected 'not' after the vector type; expected distance_metric=... or indexed by ...(...)"),
    // Index clauses.
    ("e float[4] indexed hnsw()", "could not parse vector column 'e float[4] indexed hnsw()': expected 'by' after 'indexed', found 'hnsw'"),
    ("e float[4] indexed by", "could not parse vector column 'e float[4] indexed by': expected an index type after 'indexed by', as in 'indexed by hnsw()', found nothing"),
    ("e float[4] indexed by (m=1)", "could not parse vector column 'e float[4] indexed by (m=1)': expected an index type after 'indexed by', as in 'indexed by hnsw()', found '('"),
    ("e float[4] indexed by hnsw", "could not parse vector column 'e float[4] indexed by hnsw': expected '(' after 'indexed by hnsw', found nothing; write 'hnsw()' for the default parameters"),
    ("e float[4] indexed by hnsw(m=16", "could not parse vector column 'e float[4] indexed by hnsw(m=16': missing ')' to close 'hnsw(...)'"),
    ("e float[4] indexed by hnsw(m=16,)", "could not parse vector column 'e float[4] indexed by hnsw(m=16,)': expected a parameter name in hnsw(...), found ')'"),
    ("e float[4] indexed by hnsw(m)", "could not parse vector column 'e float[4] indexed by hnsw(m)': expected '=' after hnsw parameter 'm', found ')'"),
    ("e float[4] indexed by hnsw(m=)", "could not parse vector column 'e float[4] indexed by hnsw(m=)': expected a value for hnsw parameter 'm', found ')'"),
    ("e float[4] indexed by hnsw(m=16 ef=2)", "could not parse vector column 'e float[4] indexed by hnsw(m=16 ef=2)': expected ',' or ')' after hnsw parameter 'm', found 'ef'"),
    ("e float[4] indexed by hnsw(m=16, M=8)", "could not parse vector column 'e float[4] indexed by hnsw(m=16, M=8)': hnsw parameter 'm' was given more than once"),
    ("e float[4] indexed by hnsw() indexed by hnsw()", "could not parse vector column 'e float[4] indexed by hnsw() indexed by hnsw()': indexed by was given more than once"),
    ("e float[4] indexed by hnsw() x", "could not parse vector column 'e float[4] indexed by hnsw() x': unexpected 'x' after the vector type; expected distance_metric=... or indexed by ...(...)"),
    // Primary and partition keys.
    ("id float primary key, e float[4]", "could not parse primary key column 'id float primary key': primary keys must be integer or text, found 'float'"),
    ("id int64 primary key, e float[4]", "could not parse primary key column 'id int64 primary key': primary keys must be integer or text, found 'int64'"),
    ("id integer primary, e float[4]", "could not parse primary key column 'id integer primary': expected 'key' after 'primary', found nothing"),
    ("id text primary key autoincrement, e float[4]", "could not parse primary key column 'id text primary key autoincrement': AUTOINCREMENT is only allowed on an integer primary key"),
    ("id integer primary key unique, e float[4]", "could not parse primary key column 'id integer primary key unique': unexpected 'unique' after the column type; only NOT NULL may follow it"),
    ("id integer not null primary key, e float[4]", "could not parse metadata column 'id integer not null primary key': 'primary key' must come directly after the column type"),
    ("p boolean partition key, e float[4]", "could not parse partition key column 'p boolean partition key': partition keys must be integer or text, found 'boolean'"),
    ("p text partition, e float[4]", "could not parse partition key column 'p text partition': expected 'key' after 'partition', found nothing"),
    // Metadata and auxiliary columns.
    ("e float[4], n text foo", "could not parse metadata column 'n text foo': unexpected 'foo' after the column type; only NOT NULL may follow it"),
    ("e float[4], n text not", "could not parse metadata column 'n text not': expected NULL after NOT, found nothing"),
    ("e float[4], n text default 'x'", "could not parse metadata column 'n text default 'x'': unexpected 'default' after the column type; only NOT NULL may follow it"),
    ("e float[4], n text distance_metric=cosine", "could not parse metadata column 'n text distance_metric=cosine': distance_metric applies only to vector columns"),
    ("e float[4], n float indexed by hnsw()", "could not parse metadata column 'n float indexed by hnsw()': indexed by applies only to vector columns"),
    ("e float[4], +payload boolean", "could not parse auxiliary column '+payload boolean': unknown type 'boolean'; expected text, integer, float, double or blob, or no type for any value"),
    ("e float[4], +payload float[4]", "could not parse auxiliary column '+payload float[4]': unexpected '[' after the column type; only NOT NULL may follow it"),
    ("e float[4], +", "could not parse auxiliary column '+': expected a column name after '+', found nothing"),
    ("e float[4], ++payload text", "could not parse auxiliary column '++payload text': expected a column name after '+', found '+'"),
    ("e float[4], +\"payload\" text", "could not parse auxiliary column '+\"payload\" text': expected a column name after '+', found '\"'"),
    ("e float[4], +_payload", "could not parse auxiliary column '+_payload': column names must start with a letter and contain only letters, digits and underscores"),
];

#[test]
fn every_error_message() {
    for (definition, message) in ERRORS {
        assert_eq!(
            err(definition),
            format!("vec0 constructor error: {message}"),
            "{definition}"
        );
    }
}

#[test]
fn errors_carry_their_details() {
    assert_eq!(
        parse("e float[9000]").unwrap_err(),
        SchemaError::DimensionsTooLarge {
            column: "e".into(),
            provided: "9000".into()
        }
    );
    match parse("e float[4], n text foo").unwrap_err() {
        SchemaError::Syntax { form, argument, .. } => {
            assert_eq!(
                (form, argument.as_str()),
                (ArgumentForm::Metadata, "n text foo")
            );
        }
        other => panic!("{other:?}"),
    }
    // Arguments arrive untrimmed from some callers; messages quote them trimmed.
    let args = vec!["e float[4]".to_string(), "  n real \n".to_string()];
    assert!(parse_definition(&args)
        .unwrap_err()
        .to_string()
        .contains("'n real'"));
}

#[test]
fn rowid_is_only_reserved_without_a_primary_key() {
    let def = ok("id integer primary key, rowid text, e float[4]");
    assert_eq!(def.metadata_columns().next().unwrap().name, "rowid");
    ok("rowid integer primary key, e float[4]");
}

/// Definitions that exercise every form, for the mutation property.
const VALID: &[&str] = &[
    "id integer primary key, emb float[384] distance_metric=cosine indexed by hnsw(m=16, \
     ef_construction=200), chunk_size=64",
    "user_id text partition key, genre text not null, year int, score double, ok bool, \
     +payload blob, +notes, small bit[64] indexed by rescore(quantizer=bit, oversample=8)",
    "a f16[8] distance_metric=dot, b bf16[16], c i8[4] distance_metric=l1, id text primary key",
    "emb float[4] indexed by diskann(neighbor_quantizer=binary, n_neighbors=64, label='x,y')",
];

/// Invariants every accepted definition keeps, whatever its text.
fn check_invariants(def: &TableDefinition) {
    assert!(def.vector_columns().count() >= 1);
    assert!(def.vector_columns().count() <= MAX_VECTOR_COLUMNS);
    assert!(def.metadata_columns().count() <= MAX_METADATA_COLUMNS);
    assert!(def.auxiliary_columns().count() <= MAX_AUXILIARY_COLUMNS);
    assert!(def.partition_keys().count() <= MAX_PARTITION_KEYS);
    assert!(
        def.chunk_size > 0 && def.chunk_size.is_multiple_of(8) && def.chunk_size <= MAX_CHUNK_SIZE
    );
    for v in def.vector_columns() {
        assert!((1..=MAX_DIMENSIONS).contains(&v.def.dimensions));
        let bit = v.def.element == ElementType::Bit;
        assert_eq!(bit, v.def.distance_metric == Metric::Hamming);
        assert!(!bit || v.def.dimensions.is_multiple_of(8));
    }
    let mut names: Vec<_> = def
        .columns
        .iter()
        .map(|c| c.name.to_ascii_lowercase())
        .collect();
    assert!(names
        .iter()
        .all(|n| n.starts_with(|c: char| c.is_ascii_lowercase())));
    names.sort();
    names.dedup();
    assert_eq!(names.len(), def.columns.len());
}

#[test]
fn valid_definitions_keep_the_invariants() {
    for definition in VALID {
        check_invariants(&ok(definition));
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, char),
    Replace(usize, char),
    Duplicate(usize, usize),
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        let n = chars.len().max(1);
        match *edit {
            Edit::Delete(at, len) => {
                let at = at % n;
                let end = (at + len).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            Edit::Insert(at, c) => chars.insert(at % (chars.len() + 1), c),
            Edit::Replace(at, c) if !chars.is_empty() => chars[at % n] = c,
            Edit::Replace(..) => {}
            Edit::Duplicate(at, len) => {
                let at = at % n;
                let end = (at + len).min(chars.len());
                let piece: Vec<char> = chars[at.min(end)..end].to_vec();
                chars.splice(at..at, piece);
            }
        }
    }
    chars.into_iter().collect()
}

/// Characters the grammar gives meaning to, plus a few it does not.
fn grammar_char() -> impl Strategy<Value = char> {
    prop::sample::select(
        "abefikmnprtxyz_019+-=[](),' \t\n\"`$é.AKP"
            .chars()
            .collect::<Vec<_>>(),
    )
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..12).prop_map(|(a, l)| Edit::Delete(a, l)),
        (any::<usize>(), grammar_char()).prop_map(|(a, c)| Edit::Insert(a, c)),
        (any::<usize>(), grammar_char()).prop_map(|(a, c)| Edit::Replace(a, c)),
        (any::<usize>(), 0usize..12).prop_map(|(a, l)| Edit::Duplicate(a, l)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_arguments(args in prop::collection::vec(".*", 0..6)) {
        if let Ok(def) = parse_definition(&args) {
            check_invariants(&def);
        }
    }

    #[test]
    fn never_panics_on_grammar_soup(
        args in prop::collection::vec(prop::collection::vec(grammar_char(), 0..40), 0..5)
    ) {
        let args: Vec<String> = args.into_iter().map(|a| a.into_iter().collect()).collect();
        if let Ok(def) = parse_definition(&args) {
            check_invariants(&def);
        }
    }

    #[test]
    fn never_panics_on_mutated_definitions(
        which in 0..VALID.len(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let text = apply(VALID[which], &edits);
        if let Ok(def) = parse(&text) {
            check_invariants(&def);
        }
    }
}
