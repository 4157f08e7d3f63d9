//! `vecsql import`: streams a vector file into a vec0 table, in transactions of `--batch`
//! rows, with a progress bar. A malformed record stops the import with its line (or vector)
//! number; the batch it was in is rolled back and every batch committed before it stays.
//! [`columns`] settles the metadata, partition-key and auxiliary columns filled besides the
//! vector, [`crate::elements`] how the vectors become the column's element type.

mod columns;

use std::fs::File;
use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rusqlite::{Connection, OptionalExtension, ToSql};
use vecsql::vec0::schema::vector_type_name;
use vecsql_core::ElementType;

pub use columns::{aux_arg, metadata_arg, partition_arg, ColumnArg};

use crate::elements::Encoder;
use crate::output;
use crate::readers;
use crate::tables::{self, quote, Vec0Table};
use crate::{ImportArgs, IndexKind};
use columns::Columns;

/// Where the rows go: the statement's column names.
struct Target {
    table: Vec0Table,
    key: String,
    vector: String,
    encoder: Encoder,
    text: Option<String>,
}

pub fn run(args: &ImportArgs) -> Result<()> {
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let texts = match &args.texts {
        Some(path) => Some(TextLines::open(path)?),
        None => None,
    };
    let new_file = !args.db.exists();
    let conn = crate::open(&args.db, true)?;
    let new_table = !tables::exists(&conn, &args.table)?;
    let mut committed = 0u64;
    let result = import(&conn, args, texts, &mut committed);
    if result.is_err() && committed == 0 {
        // Leave nothing behind that this run made and did not fill: no empty table, no
        // empty database file.
        if new_table {
            let _ = conn.execute_batch(&format!("drop table if exists {}", quote(&args.table)));
        }
        if new_file {
            drop(conn);
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let mut path = args.db.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }
    result
}

/// The vec0 table `args.table`, if one exists.
fn existing_table(conn: &Connection, args: &ImportArgs) -> Result<Option<Vec0Table>> {
    if !tables::exists(conn, &args.table)? {
        return Ok(None);
    }
    tables::find(conn, &args.table)
        .with_context(|| {
            format!(
                "{} exists but is not a vec0 table, so vectors cannot be imported into it",
                args.table
            )
        })
        .map(Some)
}

fn import(
    conn: &Connection,
    args: &ImportArgs,
    mut texts: Option<TextLines>,
    committed: &mut u64,
) -> Result<()> {
    let existing = existing_table(conn, args)?;
    let column_args: Vec<ColumnArg> = [&args.partition, &args.metadata, &args.aux]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let columns = Columns::resolve(
        &column_args,
        existing.as_ref(),
        &["id", &args.column, &args.text_column],
    )?;
    let header = match (args.header, args.no_header) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let options = readers::Options {
        header,
        columns: columns.specs(),
    };
    let mut reader = readers::open(&args.vectors, args.format, options)
        .map_err(|e| anyhow!("{}: {e}", args.vectors.display()))?;
    let first = match reader.next() {
        Some(Ok(record)) => record,
        Some(Err(e)) => bail!("{}: {e}; nothing imported", args.vectors.display()),
        None => bail!("{}: no vectors in the file", args.vectors.display()),
    };
    let dims = first.vector.len();
    let has_texts = texts.is_some() || first.named.text.is_some();
    let target = prepare_table(conn, args, existing, dims, has_texts, &columns)?;
    let next_id = match args.first_id {
        Some(id) => id,
        None if args.replace || args.resume => 0,
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

    let table_sql = quote(&target.table.name);
    let mut names = vec![quote(&target.key), quote(&target.vector)];
    names.extend(target.text.as_deref().map(quote));
    names.extend(columns.names());
    let values: Vec<String> = (1..=names.len())
        .map(|n| {
            if n == 2 {
                target.encoder.bind(n)
            } else {
                format!("?{n}")
            }
        })
        .collect();
    let insert_sql = format!(
        "insert into {table_sql}({}) values ({})",
        names.join(", "),
        values.join(", ")
    );
    let existing_sql = format!(
        "select {} from {table_sql} where {} = ?1",
        quote(&target.vector),
        quote(&target.key)
    );

    let started = Instant::now();
    let mut skipped = 0u64;
    let mut pending = Some(Ok(first));
    let mut blob = Vec::with_capacity(dims * 4);
    let mut stored = Vec::with_capacity(dims * 4);
    let mut failure: Option<anyhow::Error> = None;
    // A resumed import whose rows do not line up: resuming again the same way cannot help.
    let mut misaligned = false;
    let mut replace = args.replace;
    let end = args.limit.map(|n| args.offset.saturating_add(n));
    let mut done = false;
    'batches: loop {
        let mut in_batch = 0u64;
        let mut skipped_in_batch = 0u64;
        conn.execute_batch("begin")?;
        if std::mem::take(&mut replace) {
            conn.execute_batch(&format!("delete from {table_sql}"))
                .with_context(|| format!("deleting the rows of {}", target.table.name))?;
        }
        {
            let mut stmt = conn.prepare_cached(&insert_sql)?;
            let mut existing = conn.prepare_cached(&existing_sql)?;
            while in_batch + skipped_in_batch < args.batch as u64 {
                let item = pending.take().or_else(|| reader.next());
                let record = match item {
                    Some(Ok(record)) if end.is_some_and(|end| record.position >= end) => {
                        done = true;
                        break;
                    }
                    None => {
                        done = true;
                        break;
                    }
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
                    None => record.named.text.clone(),
                };
                if record.position < args.offset {
                    continue;
                }
                let id = record
                    .named
                    .id
                    .unwrap_or(next_id + (record.position - args.offset) as i64);
                if let Err(e) = target.encoder.insert(&record.vector, &mut blob) {
                    failure = Some(anyhow!(
                        "{}: {}{e}{}",
                        args.vectors.display(),
                        record.location,
                        target.encoder.quantize_hint()
                    ));
                    break;
                }
                if args.resume {
                    let there: Option<Vec<u8>> =
                        existing.query_row([id], |r| r.get(0)).optional()?;
                    if let Some(there) = there {
                        target
                            .encoder
                            .stored(&record.vector, &mut stored)
                            .expect("insert() encoded it");
                        if there != stored {
                            misaligned = true;
                            failure = Some(anyhow!(
                                "{}: {}{} {id} is already in {} with another vector, so \
                                 this file's rows do not line up with the import being \
                                 resumed; check --first-id (the failed import's message \
                                 gives it)",
                                args.vectors.display(),
                                record.location,
                                target.key,
                                target.table.name
                            ));
                            break;
                        }
                        skipped_in_batch += 1;
                        progress.inc(1);
                        continue;
                    }
                }
                let mut params: Vec<&dyn ToSql> = vec![&id, &blob];
                if target.text.is_some() {
                    params.push(&text);
                }
                params.extend(record.named.columns.iter().map(|v| v as &dyn ToSql));
                let inserted = stmt.execute(&params[..]);
                if let Err(e) = inserted {
                    failure = Some(anyhow::Error::new(e).context(format!(
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
        *committed += in_batch;
        skipped += skipped_in_batch;
        if done {
            break;
        }
    }
    progress.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(err) = failure {
        let how = if misaligned {
            format!(
                "{} rows committed to {} before this batch",
                output::count(*committed),
                target.table.name
            )
        } else if *committed == 0 && !args.resume {
            "nothing was imported".to_string()
        } else {
            format!(
                "{} rows committed to {} before this batch (batches of {}); after fixing the \
                 problem, finish the import with the same command and --resume --first-id {} \
                 (rows already there are skipped)",
                output::count(*committed),
                target.table.name,
                args.batch,
                next_id
            )
        };
        return Err(err.context(format!("import stopped; {how}")));
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
    let skipped = if args.resume {
        format!("; skipped {} already present", output::count(skipped))
    } else {
        String::new()
    };
    println!(
        "imported {} vectors of {} dimensions into {} in {:.2} s ({} rows/s){skipped}; {} is {}",
        output::count(*committed),
        dims,
        target.table.name,
        elapsed,
        output::count((*committed as f64 / elapsed.max(1e-9)) as u64),
        args.db.display(),
        output::bytes(size)
    );
    Ok(())
}

/// Finds (and checks) or creates the target table.
fn prepare_table(
    conn: &Connection,
    args: &ImportArgs,
    existing: Option<Vec0Table>,
    dims: usize,
    has_texts: bool,
    columns: &Columns,
) -> Result<Target> {
    let new_table = existing.is_none();
    let table = match existing {
        Some(table) => table,
        None => create_table(conn, args, dims, has_texts, columns)?,
    };
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
    let encoder = Encoder::new(column.element, args.quantize)?;
    if let Some(metric) = args.metric {
        let existing = column.distance_metric;
        if existing != metric {
            bail!(
                "{}.{} already uses distance_metric={existing}, not {metric}",
                table.name,
                vector,
            );
        }
    }
    if !new_table {
        let given: Vec<&str> = [
            ("--type", args.element.is_some()),
            ("--m", args.m.is_some()),
            ("--ef-construction", args.ef_construction.is_some()),
            ("--quantizer", args.quantizer.is_some()),
        ]
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect();
        if !given.is_empty() {
            bail!(
                "{} already exists; {} only apply to a new table",
                table.name,
                given.join(", ")
            );
        }
    }
    if args.index.is_some() && column.index.is_none() {
        bail!(
            "{}.{} exists without an index; --index only applies to a new table (add one to \
             this table with `vecsql index {} {}`)",
            table.name,
            vector,
            args.db.display(),
            table.name
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
    if !(args.append || args.replace || args.resume) {
        let rows = table.row_count(conn)?;
        if rows > 0 {
            bail!(
                "{} already has {} rows; pass --append to add these vectors to them, --replace \
                 to delete them first, or --resume to skip the ids already there (to finish an \
                 import that stopped)",
                table.name,
                output::count(rows as u64)
            );
        }
    }
    Ok(Target {
        key: table.key_name(),
        table,
        vector,
        encoder,
        text,
    })
}

/// Creates the table for vectors of `dims` dimensions, with a text column when there are
/// texts and the `columns` asked for.
fn create_table(
    conn: &Connection,
    args: &ImportArgs,
    dims: usize,
    has_texts: bool,
    columns: &Columns,
) -> Result<Vec0Table> {
    let element = args.element.unwrap_or(ElementType::Float32);
    if element == ElementType::Bit && dims % 8 != 0 {
        bail!(
            "a bit column holds a multiple of 8 dimensions; the vectors in {} have {dims}",
            args.vectors.display()
        );
    }
    let mut definition = vec!["id integer primary key".to_string()];
    definition.extend(
        columns
            .definitions()
            .into_iter()
            .filter(|d| !d.starts_with('+')),
    );
    let mut vector = format!("{} {}[{dims}]", args.column, vector_type_name(element));
    // A bit column's only metric is hamming, its default.
    match (args.metric, element) {
        (None, ElementType::Bit) => {}
        (metric, _) => vector.push_str(&format!(
            " distance_metric={}",
            metric.map_or("l2", |m| m.name())
        )),
    }
    if let Some(IndexKind::Hnsw) = args.index {
        vector.push_str(&format!(
            " indexed by {}",
            crate::hnsw_clause(args.m, args.ef_construction, args.quantizer)
        ));
    }
    definition.push(vector);
    if has_texts {
        definition.push(format!("+{} text", args.text_column));
    }
    definition.extend(
        columns
            .definitions()
            .into_iter()
            .filter(|d| d.starts_with('+')),
    );
    let sql = format!(
        "create virtual table {} using vec0({})",
        quote(&args.table),
        definition.join(", ")
    );
    conn.execute_batch(&sql)
        .with_context(|| format!("creating the table: {sql}"))?;
    tables::find(conn, &args.table)
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
