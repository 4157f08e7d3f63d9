//! `vecsql`: import vectors into vec0 tables, search them, run SQL, benchmark and inspect,
//! with vecsql linked in (SQLite bundled; no extension file to load).

mod bench;
mod elements;
mod import;
mod index;
mod info;
mod output;
mod readers;
mod search;
mod sql;
mod tables;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rusqlite::{Connection, OpenFlags};
use vecsql_core::distance::Metric;
use vecsql_core::ElementType;

use readers::Format;

#[derive(Parser)]
#[command(
    name = "vecsql",
    version,
    about = "Vector similarity search inside SQLite: import, search, query, benchmark and inspect vec0 tables",
    after_help = "Examples:\n  \
        vecsql import demo.db packages --vectors data/pypi-5k.f16.npy --texts data/pypi-5k.txt --metric cosine\n  \
        vecsql search demo.db packages --text \"web framework\" -k 5\n  \
        vecsql sql demo.db \"select count(*) from packages\"\n  \
        vecsql bench demo.db packages --queries data/queries-100.f16.npy\n  \
        vecsql info demo.db"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import vectors (and texts) from a file into a vec0 table, creating it if needed.
    Import(ImportArgs),
    /// Print the nearest neighbours of a row, a vector or a row matched by text.
    Search(SearchArgs),
    /// Run SQL with vecsql loaded and print the rows.
    Sql(SqlArgs),
    /// Measure recall@k and latency of a table's KNN queries against exact search.
    Bench(BenchArgs),
    /// Show the vec0 tables of a database: columns, row counts, indexes and sizes.
    Info(InfoArgs),
    /// Add an HNSW index to a vector column of an existing table (built from its rows, in
    /// place), or drop one.
    Index(IndexArgs),
}

/// `--metric`: every metric, by the names `distance_metric=` takes, parsed into the core's
/// [`Metric`] (clap lists them in `--help` and refuses any other).
fn metric_parser() -> impl TypedValueParser<Value = Metric> {
    PossibleValuesParser::new(Metric::ALL.map(|m| {
        let value = PossibleValue::new(m.name());
        match m {
            Metric::Hamming => value.help("Bit columns only (their default)"),
            _ => value,
        }
    }))
    .map(|name| Metric::from_name(&name).expect("a listed metric name"))
}

/// The element types a vec0 column may have, in `--type`'s order.
const COLUMN_TYPES: [ElementType; 5] = [
    ElementType::Float32,
    ElementType::Float16,
    ElementType::BFloat16,
    ElementType::Int8,
    ElementType::Bit,
];

/// `--type`: a vec0 column's element types, by `vec_type()`'s names, parsed into the core's
/// [`ElementType`].
fn element_parser() -> impl TypedValueParser<Value = ElementType> {
    PossibleValuesParser::new(COLUMN_TYPES.map(|t| {
        let value = PossibleValue::new(t.name());
        match t {
            ElementType::Int8 => {
                value.help("Integers in -128..127 (or floats with --quantize unit|MIN:MAX)")
            }
            ElementType::Bit => value.help(
                "One bit per dimension, a multiple of 8 (from 0/1, or floats with --quantize sign)",
            ),
            _ => value,
        }
    }))
    .map(|name| {
        COLUMN_TYPES
            .into_iter()
            .find(|t| t.name() == name)
            .expect("a listed element type name")
    })
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IndexKind {
    /// An HNSW graph (`indexed by hnsw()`), for approximate search.
    Hnsw,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Quantizer {
    None,
    Int8,
    Binary,
}

impl Quantizer {
    pub fn name(self) -> &'static str {
        match self {
            Quantizer::None => "none",
            Quantizer::Int8 => "int8",
            Quantizer::Binary => "binary",
        }
    }
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("mode").args(["append", "replace", "resume"]))]
pub struct ImportArgs {
    /// Database file (created if missing).
    db: PathBuf,
    /// vec0 table (created if missing).
    table: String,
    /// Vector file: .npy (float32/float16/float64), .fvecs, .bvecs, .jsonl or .csv/.tsv.
    #[arg(long, value_name = "FILE")]
    vectors: PathBuf,
    /// Text file with one line per vector, stored in the text column.
    #[arg(long, value_name = "FILE")]
    texts: Option<PathBuf>,
    /// Format of --vectors, when its extension does not say.
    #[arg(long)]
    format: Option<Format>,
    /// Distance metric of a new table's vector column [default: l2].
    #[arg(long, value_parser = metric_parser())]
    metric: Option<Metric>,
    /// Build an ANN index on a new table's vector column.
    #[arg(long)]
    index: Option<IndexKind>,
    /// Element type of a new table's vector column (the imported floats are converted; int8
    /// and bit take exact values unless --quantize says how to map floats).
    #[arg(long = "type", value_name = "TYPE", value_parser = element_parser())]
    element: Option<ElementType>,
    /// How floats become int8 or bit elements: `unit` (int8, [-1, 1] as
    /// vec_quantize_int8(v, 'unit')), `MIN:MAX` (int8, that range, clamped), `sign` (bit: 1
    /// where greater than 0, as vec_quantize_binary).
    #[arg(long, value_name = "METHOD", value_parser = elements::quantize_arg, allow_hyphen_values = true)]
    quantize: Option<elements::Quantize>,
    /// Metadata columns (filterable in KNN queries), each filled from the record field of
    /// that name (CSV header, JSON key): NAME:TYPE, TYPE integer, float, boolean or text (the
    /// table's own when it exists). Repeat the option or separate with commas.
    #[arg(long, value_name = "NAME:TYPE", value_delimiter = ',', value_parser = import::metadata_arg)]
    metadata: Vec<import::ColumnArg>,
    /// Partition key columns (a KNN query filtered on one reads only its rows), filled like
    /// --metadata: NAME:TYPE, TYPE integer or text.
    #[arg(long, value_name = "NAME:TYPE", value_delimiter = ',', value_parser = import::partition_arg)]
    partition: Vec<import::ColumnArg>,
    /// Auxiliary columns (stored and returned, not filterable by vec0), filled like
    /// --metadata: NAME[:TYPE], TYPE text (default), integer, float or any; a missing field
    /// is NULL.
    #[arg(long, value_name = "NAME[:TYPE]", value_delimiter = ',', value_parser = import::aux_arg)]
    aux: Vec<import::ColumnArg>,
    /// HNSW links per node of a new indexed table [index default: 16].
    #[arg(long, requires = "index")]
    m: Option<u32>,
    /// HNSW build breadth of a new indexed table [index default: 200].
    #[arg(long, requires = "index", value_name = "N")]
    ef_construction: Option<u32>,
    /// Compact codes the HNSW graph is walked on, of a new indexed table [index default: none].
    #[arg(long, requires = "index")]
    quantizer: Option<Quantizer>,
    /// Skip the first N vectors of the file (ids still count from the first one imported).
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: u64,
    /// Import at most N vectors.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Vector column name.
    #[arg(long, default_value = "embedding")]
    column: String,
    /// Text column name (an auxiliary column of a new table).
    #[arg(long, default_value = "text")]
    text_column: String,
    /// Id of the first vector; the next ones count up. [default: 0 for an empty table and with
    /// --replace or --resume, else one more than the largest id]. Ids in the file (JSON
    /// "id", CSV id column) win.
    #[arg(long)]
    first_id: Option<i64>,
    /// The first line of a CSV/TSV file is a header (a first row of names is recognised
    /// without it; a first row mixing numbers and other fields is an error unless declared).
    #[arg(long, conflicts_with = "no_header")]
    header: bool,
    /// The first line of a CSV/TSV file is data, not a header.
    #[arg(long)]
    no_header: bool,
    /// Add the vectors to a table that already has rows.
    #[arg(long)]
    append: bool,
    /// Delete a table's rows before importing (in the first batch's transaction).
    #[arg(long)]
    replace: bool,
    /// Finish an import that stopped: skip the ids already in the table. Ids count from
    /// --first-id (default 0), so give the one the failed import's message names.
    #[arg(long)]
    resume: bool,
    /// Rows per transaction.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("query").required(true).args(["row", "vector", "text"]))]
pub struct SearchArgs {
    /// Database file.
    db: PathBuf,
    /// vec0 table.
    table: String,
    /// Use the vector of the row with this id (the row itself is left out of the results).
    #[arg(long, value_name = "ID")]
    row: Option<String>,
    /// Use this vector, as JSON: '[0.1, 0.2, ...]'.
    #[arg(long, value_name = "JSON")]
    vector: Option<String>,
    /// Use the vector of a stored row: the shortest row whose text contains SUBSTRING
    /// (case-insensitive). The search is by that row's vector, not by the meaning of the
    /// words (the CLI computes no embeddings); the row itself is left out of the results.
    /// When no text contains SUBSTRING, the closest texts are listed.
    #[arg(long, value_name = "SUBSTRING")]
    text: Option<String>,
    /// Number of neighbours.
    #[arg(short, long, default_value_t = 10)]
    k: i64,
    /// Only rows for which this SQL condition holds, on any column of the table (key,
    /// metadata, partition, auxiliary), with AND, OR and any expression:
    /// "category = 'news' and year > 2020", "lower(title) like '%rust%'". Applied before the
    /// top k is chosen, so k matching rows come back when there are k.
    #[arg(long = "where", value_name = "SQL")]
    filter: Option<String>,
    /// Only neighbours at most this distance away.
    #[arg(long, value_name = "D")]
    max_distance: Option<f64>,
    /// Search breadth of the column's ANN index (`ef_search = N`); indexed tables only.
    #[arg(long, value_name = "N")]
    ef_search: Option<i64>,
    /// Exact search on an indexed table (`exact = 1`), bypassing its ANN index.
    #[arg(long)]
    exact: bool,
    /// Print the SQL of the KNN query to stderr.
    #[arg(long)]
    show_sql: bool,
    /// Vector column [default: the first].
    #[arg(long)]
    column: Option<String>,
    /// Text column for --text [default: "text", else the first text column].
    #[arg(long)]
    text_column: Option<String>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
    /// Longest text shown in a table cell (0: no limit).
    #[arg(long, default_value_t = 80)]
    width: usize,
}

#[derive(Args)]
pub struct SqlArgs {
    /// Database file (created if missing).
    db: PathBuf,
    /// SQL statements; the rows of each query are printed.
    sql: String,
    /// Print JSON lines instead of tables.
    #[arg(long)]
    json: bool,
    /// Longest text shown in a table cell (0: no limit).
    #[arg(long, default_value_t = 80)]
    width: usize,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Database file.
    db: PathBuf,
    /// vec0 table.
    table: String,
    /// Query vectors (any format import reads); default: rows sampled from the table.
    #[arg(long, value_name = "FILE")]
    queries: Option<PathBuf>,
    /// Format of --queries, when its extension does not say.
    #[arg(long)]
    format: Option<Format>,
    /// Number of queries.
    #[arg(short = 'n', long, default_value_t = 100)]
    count: usize,
    /// Neighbours per query.
    #[arg(short, long, default_value_t = 10)]
    k: usize,
    /// Vector column [default: the first].
    #[arg(long)]
    column: Option<String>,
    /// Search breadth of an ANN index for the KNN queries (`and ef_search = N`); the index's
    /// default when not given.
    #[arg(long, value_name = "N")]
    ef_search: Option<i64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct IndexArgs {
    /// Database file.
    db: PathBuf,
    /// vec0 table.
    table: String,
    /// Vector column [default: the table's only one].
    #[arg(long)]
    column: Option<String>,
    /// Drop the column's index instead (queries then scan exactly).
    #[arg(long, conflicts_with_all = ["m", "ef_construction", "quantizer"])]
    drop: bool,
    /// HNSW links per node [default: 16].
    #[arg(long)]
    m: Option<u32>,
    /// HNSW build breadth [default: 200].
    #[arg(long, value_name = "N")]
    ef_construction: Option<u32>,
    /// Compact codes the HNSW graph is walked on [default: none].
    #[arg(long)]
    quantizer: Option<Quantizer>,
    /// Print the SQL statement that adds or drops the index.
    #[arg(long)]
    show_sql: bool,
}

/// `hnsw(...)` with the options given (the index's defaults for the others).
pub fn hnsw_clause(m: Option<u32>, ef_construction: Option<u32>, q: Option<Quantizer>) -> String {
    let mut params = Vec::new();
    if let Some(m) = m {
        params.push(format!("m={m}"));
    }
    if let Some(ef) = ef_construction {
        params.push(format!("ef_construction={ef}"));
    }
    if let Some(q) = q {
        params.push(format!("quantizer={}", q.name()));
    }
    format!("hnsw({})", params.join(", "))
}

#[derive(Args)]
pub struct InfoArgs {
    /// Database file.
    db: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

/// Opens `path` with vecsql registered. `create`: whether a missing file is created.
pub fn open(path: &Path, create: bool) -> Result<Connection> {
    if !create && !path.exists() {
        bail!("{}: no such database file", path.display());
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)
        .with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    vecsql::register(&conn).context("registering vecsql")?;
    Ok(conn)
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`vecsql sql ... | head`) like other Unix tools, instead of
    // panicking in println!: Rust ignores SIGPIPE by default.
    #[cfg(unix)]
    // SAFETY: sets the disposition of one signal to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Import(args) => import::run(&args),
        Command::Search(args) => search::run(&args),
        Command::Sql(args) => sql::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Info(args) => info::run(&args),
        Command::Index(args) => index::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", message(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its context, outermost first, leaving out SQLite's generic code descriptions
/// ("Error code 1: SQL logic error") that follow SQLite's own message.
fn message(err: &anyhow::Error) -> String {
    err.chain()
        .filter(|e| !e.is::<rusqlite::ffi::Error>())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}
