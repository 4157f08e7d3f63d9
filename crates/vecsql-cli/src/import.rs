//! `vecsql import`: streams a vector file into a vec0 table, in transactions of `--batch`
//! rows, with a progress bar. A malformed record stops the import with its line (or vector)
//! number; the batch it was in is rolled back and every batch committed before it stays.

use std::fs::File;
use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rusqlite::{params, Connection};
use vecsql::vec0::schema::{DistanceMetric, VectorElement};

use crate::output;
use crate::readers::{self, Record};
use crate::tables::{self, quote, Vec0Table};
use crate::{ImportArgs, IndexKind};

/// Where the rows go: the statement's column names.
struct Target {
    table: Vec0Table,
    key: String,
    vector: String,
    text: Option<String>,
}

pub fn run(args: &ImportArgs) -> Result<()> {
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let mut reader = readers::open(&args.vectors, args.format)
        .map_err(|e| anyhow!("{}: {e}", args.vectors.display()))?;
    let mut texts = match &args.texts {
        Some(path) => Some(TextLines::open(path)?),
        None => None,
    };
    let first = match reader.next() {
        Some(Ok(record)) => record,
        Some(Err(e)) => bail!("{}: {e}; nothing imported", args.vectors.display()),
        None => bail!("{}: no vectors in the file", args.vectors.display()),
    };
    let dims = first.vector.len();

    let conn = crate::open(&args.db, true)?;
    let has_texts = texts.is_some() || first.text.is_some();
    let target = prepare_table(&conn, args, dims, has_texts)?;
    let next_id = match args.first_id {
        Some(id) => id,
        None => conn
            .query_row(
                &format!(
                    "select max(rowid) from {}",
                    quote(&format!("{}_rowids", target.table.name))
                ),
                [],
                |r| r.get::<_, Option<i64>>(0),
            )?
            .map_or(0, |max| max + 1),
    };

    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(reader.estimated_len, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} vectors  {per_sec:0}  ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    };

    let insert_sql = match &target.text {
        Some(text) => format!(
            "insert into {}({}, {}, {}) values (?1, ?2, ?3)",
            quote(&target.table.name),
            quote(&target.key),
            quote(&target.vector),
            quote(text)
        ),
        None => format!(
            "insert into {}({}, {}) values (?1, ?2)",
            quote(&target.table.name),
            quote(&target.key),
            quote(&target.vector)
        ),
    };

    let started = Instant::now();
    let mut committed = 0u64;
    let mut pending = Some(Ok(first));
    let mut blob = Vec::with_capacity(dims * 4);
    let mut failure: Option<anyhow::Error> = None;
    'batches: loop {
        let mut in_batch = 0u64;
        conn.execute_batch("begin")?;
        {
            let mut stmt = conn.prepare_cached(&insert_sql)?;
            while in_batch < args.batch as u64 {
                let item = pending.take().or_else(|| reader.next());
                let record = match item {
                    None => break,
                    Some(Ok(record)) => record,
                    Some(Err(e)) => {
                        failure = Some(anyhow!("{}: {e}", args.vectors.display()));
                        break;
                    }
                };
                let text = match texts.as_mut() {
                    Some(lines) => match lines.next(record.position) {
                        Ok(text) => Some(text),
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    },
                    None => record.text.clone(),
                };
                if let Err(e) = insert(&mut stmt, &record, next_id, text, &mut blob, &target) {
                    failure = Some(e.context(format!(
                        "{}: {}inserting the row",
                        args.vectors.display(),
                        record.location
                    )));
                    break;
                }
                in_batch += 1;
                progress.inc(1);
            }
        }
        if failure.is_some() {
            conn.execute_batch("rollback")?;
            break 'batches;
        }
        conn.execute_batch("commit")?;
        committed += in_batch;
        if in_batch < args.batch as u64 {
            break;
        }
    }
    progress.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(err) = failure {
        return Err(err.context(format!(
            "import stopped; {} rows committed to {} before this batch (batches of {})",
            output::count(committed),
            target.table.name,
            args.batch
        )));
    }
    if let Some(lines) = texts.as_mut() {
        if let Some(extra) = lines.next_line()? {
            eprintln!(
                "warning: {} has more lines than there are vectors (first extra line: {})",
                lines.path,
                output::truncate(&extra, 60)
            );
        }
    }
    let size = std::fs::metadata(&args.db).map(|m| m.len()).unwrap_or(0);
    println!(
        "imported {} vectors of {} dimensions into {} in {:.2} s ({} rows/s); {} is {}",
        output::count(committed),
        dims,
        target.table.name,
        elapsed,
        output::count((committed as f64 / elapsed.max(1e-9)) as u64),
        args.db.display(),
        output::bytes(size)
    );
    Ok(())
}

fn insert(
    stmt: &mut rusqlite::CachedStatement<'_>,
    record: &Record,
    next_id: i64,
    text: Option<String>,
    blob: &mut Vec<u8>,
    target: &Target,
) -> Result<()> {
    let id = record.id.unwrap_or(next_id + record.position as i64);
    blob.clear();
    for x in &record.vector {
        blob.extend_from_slice(&x.to_le_bytes());
    }
    match &target.text {
        Some(_) => stmt.execute(params![id, &blob[..], text])?,
        None => stmt.execute(params![id, &blob[..]])?,
    };
    Ok(())
}

/// Finds (and checks) or creates the target table.
fn prepare_table(
    conn: &Connection,
    args: &ImportArgs,
    dims: usize,
    has_texts: bool,
) -> Result<Target> {
    if !tables::exists(conn, &args.table)? {
        let metric = args.metric.map_or("l2", |m| m.name());
        let index = match args.index {
            Some(IndexKind::Hnsw) => " indexed by hnsw()",
            None => "",
        };
        let text = if has_texts {
            format!(", +{} text", args.text_column)
        } else {
            String::new()
        };
        let sql = format!(
            "create virtual table {} using vec0(id integer primary key, {} float[{dims}] distance_metric={metric}{index}{text})",
            quote(&args.table),
            args.column,
        );
        conn.execute_batch(&sql)
            .with_context(|| format!("creating the table: {sql}"))?;
    }
    let table = tables::find(conn, &args.table).with_context(|| {
        format!(
            "{} exists but is not a vec0 table, so vectors cannot be imported into it",
            args.table
        )
    })?;
    if table.key_is_text() {
        bail!(
            "{} has a text primary key; import assigns integer ids",
            table.name
        );
    }
    let (vector, column) = table.vector_column(Some(&args.column)).or_else(|e| {
        // A table made elsewhere: its only vector column will do when --column was not set.
        let mut columns = table.def.vector_columns();
        match (columns.next(), columns.next(), args.column == "embedding") {
            (Some(only), None, true) => Ok((only.name.to_string(), only.def.clone())),
            _ => Err(e),
        }
    })?;
    if column.dimensions != dims {
        bail!(
            "{}.{} has {} dimensions, but the vectors in {} have {dims}",
            table.name,
            vector,
            column.dimensions,
            args.vectors.display()
        );
    }
    if !matches!(
        column.element,
        VectorElement::Float32 | VectorElement::Float16 | VectorElement::BFloat16
    ) {
        bail!(
            "{}.{} is {}; import writes float vectors",
            table.name,
            vector,
            tables::vector_type(&column)
        );
    }
    if let Some(metric) = args.metric {
        let existing = match column.distance_metric {
            DistanceMetric::L2 => "l2",
            DistanceMetric::Cosine => "cosine",
            DistanceMetric::L1 => "l1",
            DistanceMetric::Dot => "dot",
            DistanceMetric::Hamming => "hamming",
        };
        if existing != metric.name() {
            bail!(
                "{}.{} already uses distance_metric={existing}, not {}",
                table.name,
                vector,
                metric.name()
            );
        }
    }
    if args.index.is_some() && column.index.is_none() {
        bail!(
            "{}.{} exists without an index; --index only applies to a new table",
            table.name,
            vector
        );
    }
    let text = if has_texts {
        Some(table.text_column(Some(&args.text_column)).ok_or_else(|| {
            anyhow!(
                "{} has no text column {:?} for the texts",
                table.name,
                args.text_column
            )
        })?)
    } else {
        None
    };
    Ok(Target {
        key: table.key_name(),
        table,
        vector,
        text,
    })
}

/// The `--texts` file, read along with the vectors: line i+1 belongs to vector i.
struct TextLines {
    path: String,
    lines: Lines<BufReader<File>>,
    read: u64,
}

impl TextLines {
    fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(TextLines {
            path: path.display().to_string(),
            lines: BufReader::with_capacity(1 << 20, file).lines(),
            read: 0,
        })
    }

    fn next_line(&mut self) -> Result<Option<String>> {
        match self.lines.next() {
            None => Ok(None),
            Some(line) => {
                self.read += 1;
                line.with_context(|| format!("{}: line {}", self.path, self.read))
                    .map(Some)
            }
        }
    }

    /// The text of vector `position` (0-based); vectors are read in order.
    fn next(&mut self, position: u64) -> Result<String> {
        debug_assert_eq!(position, self.read);
        self.next_line()?.ok_or_else(|| {
            anyhow!(
                "{} has {} lines, but there are more vectors (vector {} has no text)",
                self.path,
                self.read,
                position + 1
            )
        })
    }
}
