//! `vecsql search`: one KNN query on a vec0 table, printed as a table of neighbours with their
//! distances and every non-vector column.

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use rusqlite::types::{Value, ValueRef};
use rusqlite::OptionalExtension;

use crate::output;
use crate::tables::{self, quote};
use crate::SearchArgs;

pub fn run(args: &SearchArgs) -> Result<()> {
    if args.k < 1 {
        bail!("-k must be at least 1");
    }
    let conn = crate::open(&args.db, false)?;
    let table = tables::find(&conn, &args.table)?;
    let (vector_column, _) = table.vector_column(args.column.as_deref())?;
    let key = table.key_name();
    let table_sql = quote(&table.name);

    // The query vector, and the row it came from (left out of the results).
    let (query, exclude, described): (Value, Option<Value>, Option<String>) =
        if let Some(json) = &args.vector {
            (Value::Text(json.clone()), None, None)
        } else if let Some(row) = &args.row {
            let id: Value = if table.key_is_text() {
                Value::Text(row.clone())
            } else {
                Value::Integer(
                    row.parse()
                        .with_context(|| format!("--row {row:?} is not an integer id"))?,
                )
            };
            let vector: Value = conn
                .query_row(
                    &format!(
                        "select {} from {table_sql} where {} = ?1",
                        quote(&vector_column),
                        quote(&key)
                    ),
                    [&id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| anyhow!("{} has no row with {key} = {row}", table.name))?;
            let text = table
                .text_column(args.text_column.as_deref())
                .and_then(|t| {
                    conn.query_row(
                        &format!(
                            "select {} from {table_sql} where {} = ?1",
                            quote(&t),
                            quote(&key)
                        ),
                        [&id],
                        |r| r.get::<_, Option<String>>(0),
                    )
                    .ok()
                    .flatten()
                });
            let described = format!(
                "{key} {row}{}",
                text.map(|t| format!(": {t}")).unwrap_or_default()
            );
            (vector, Some(id), Some(described))
        } else if let Some(substring) = &args.text {
            let text_column = table
                .text_column(args.text_column.as_deref())
                .ok_or_else(|| {
                    anyhow!(
                        "{} has no text column to match --text against{}",
                        table.name,
                        args.text_column
                            .as_deref()
                            .map(|c| format!(" (no text column {c:?})"))
                            .unwrap_or_default()
                    )
                })?;
            let text = quote(&text_column);
            let found: Option<(Value, String, Value)> = conn
                .query_row(
                    &format!(
                        "select {}, {text}, {} from {table_sql} \
                         where instr(lower({text}), lower(?1)) > 0 \
                         order by length({text}), {} limit 1",
                        quote(&key),
                        quote(&vector_column),
                        quote(&key)
                    ),
                    [substring],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (id, text, vector) = found.ok_or_else(|| {
                anyhow!(
                    "no row of {} has a {text_column} containing {substring:?}",
                    table.name
                )
            })?;
            let described = format!("{key} {}: {text}", output::cell((&id).into(), 0));
            (vector, Some(id), Some(described))
        } else {
            bail!("give one of --row, --vector or --text");
        };

    let shown = table.display_columns();
    let mut select = vec![quote(&key), "distance".to_string()];
    select.extend(shown.iter().map(|c| quote(c)));
    let extra = args
        .filter
        .as_deref()
        .map(|w| format!(" and ({w})"))
        .unwrap_or_default();
    let sql = format!(
        "select {} from {table_sql} where {} match ?1 and k = ?2{extra} order by distance",
        select.join(", "),
        quote(&vector_column)
    );
    let k = args.k + i64::from(exclude.is_some());
    let started = Instant::now();
    let mut stmt = conn
        .prepare(&sql)
        .with_context(|| format!("preparing {sql}"))?;
    let mut rows = stmt.query(rusqlite::params![query, k])?;
    let mut hits: Vec<Vec<Value>> = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..select.len())
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if exclude.as_ref() == Some(&values[0]) {
            continue;
        }
        hits.push(values);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    hits.truncate(args.k as usize);

    let mut names = vec![key.clone(), "distance".to_string()];
    names.extend(shown.iter().cloned());
    if args.json {
        for hit in &hits {
            let object: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(hit)
                .map(|(n, v)| (n.clone(), output::json(v.into())))
                .collect();
            println!("{}", serde_json::Value::Object(object));
        }
        return Ok(());
    }
    if let Some(described) = &described {
        println!(
            "query: {}",
            output::truncate(described, args.width.max(40) + 20)
        );
    }
    let mut header: Vec<&str> = vec!["#"];
    header.extend(names.iter().map(String::as_str));
    let mut out = output::table(&header);
    for (rank, hit) in hits.iter().enumerate() {
        let mut cells = vec![(rank + 1).to_string()];
        cells.extend(hit.iter().enumerate().map(|(i, v)| match (i, v) {
            (1, Value::Real(d)) => format!("{d:.4}"),
            _ => output::cell(ValueRef::from(v), args.width),
        }));
        out.add_row(cells);
    }
    output::align_right(&mut out, &[0, 1, 2]);
    println!("{out}");
    println!(
        "{} neighbours of {} rows in {} ms",
        hits.len(),
        output::count(table.row_count(&conn)? as u64),
        output::millis(elapsed_ms)
    );
    Ok(())
}
