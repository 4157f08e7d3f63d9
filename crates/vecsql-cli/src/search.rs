//! `vecsql search`: one KNN query on a vec0 table, printed as a table of neighbours with their
//! distances and every non-vector column.

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use rusqlite::types::{Value, ValueRef};
use rusqlite::OptionalExtension;
use vecsql::vec0::schema::VectorElement;

use crate::elements::Encoder;
use crate::output;
use crate::tables::{self, quote, Vec0Table};
use crate::SearchArgs;

pub fn run(args: &SearchArgs) -> Result<()> {
    if args.k < 1 {
        bail!("-k must be at least 1");
    }
    let conn = crate::open(&args.db, false)?;
    let table = tables::find(&conn, &args.table)?;
    let (vector_column, column) = table.vector_column(args.column.as_deref())?;
    let key = table.key_name();
    let table_sql = quote(&table.name);

    // The query vector, and the row it came from (left out of the results).
    let (query, exclude, described): (Value, Option<Value>, Option<String>) =
        if let Some(json) = &args.vector {
            (query_vector(json, column.element)?, None, None)
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
            let Some((id, text, vector)) = found else {
                let close = close_matches(&conn, &table_sql, &text, &key, substring)?;
                let listed = if close.is_empty() {
                    "; no text contains any of its words either".to_string()
                } else {
                    format!(
                        "; the closest texts (containing some of its words):{}",
                        close
                            .iter()
                            .map(|(id, t)| format!(
                                "\n  {key} {}: {}",
                                output::cell(id.into(), 0),
                                output::truncate(t, 100)
                            ))
                            .collect::<String>()
                    )
                };
                bail!(
                    "no row of {} has a {text_column} containing {substring:?}{listed}",
                    table.name
                );
            };
            let described = format!("{key} {}: {text}", output::cell((&id).into(), 0));
            (vector, Some(id), Some(described))
        } else {
            bail!("give one of --row, --vector or --text");
        };

    let shown = table.display_columns();
    let mut select = vec![quote(&key), "distance".to_string()];
    select.extend(shown.iter().map(|c| quote(c)));
    // A blob made by query_vector() needs its type; a stored vector carries it.
    let bound = match (&args.vector, column.element) {
        (Some(_), element @ (VectorElement::Int8 | VectorElement::Bit)) => {
            Encoder::new(element, None)?.bind(1)
        }
        _ => "?1".to_string(),
    };
    let mut sql = format!(
        "select {} from {table_sql} where {} match {bound} and k = ?2",
        select.join(", "),
        quote(&vector_column)
    );
    if let Some(d) = args.max_distance {
        sql.push_str(&format!(" and distance <= {d:?}"));
    }
    if args.ef_search.is_some() || args.exact {
        if column.index.is_none() {
            let option = if args.exact { "--exact" } else { "--ef-search" };
            bail!(tables::no_index(&table.name, &vector_column, option));
        }
        if let Some(ef) = args.ef_search {
            sql.push_str(&format!(" and ef_search = {ef}"));
        }
        if args.exact {
            sql.push_str(" and exact = 1");
        }
    }
    let sql = match &args.filter {
        None => format!("{sql} order by distance"),
        Some(filter) => {
            check_filter(&conn, &table, filter)?;
            // SQLite hands a virtual table only ANDed `column op value` terms, and applies the
            // rest (OR, expressions) to the k rows vec0 returned, which loses rows. So the
            // filter goes to vec0 as is only when vec0 takes every term of it (metadata,
            // partition and key comparisons: its fastest filters); otherwise as the keys
            // that match it, `key IN (subquery)`, which vec0 takes as the rows to search.
            let direct = format!("{sql} and ({filter}) order by distance");
            if filtered_by_vec0(&conn, &direct) {
                direct
            } else {
                format!(
                    "{sql} and {} in (select {} from {table_sql} where {filter}) order by distance",
                    quote(&key),
                    quote(&key)
                )
            }
        }
    };
    if args.show_sql {
        eprintln!("{sql}");
    }
    let k = args.k + i64::from(exclude.is_some());
    let started = Instant::now();
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| anyhow!("preparing the KNN query: {}", sql_message(&e)))?;
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
        "{} {} of {} rows in {} ms",
        hits.len(),
        if hits.len() == 1 {
            "neighbour"
        } else {
            "neighbours"
        },
        output::count(table.row_count(&conn)? as u64),
        output::millis(elapsed_ms)
    );
    Ok(())
}

/// Whether SQLite hands every WHERE term of `sql` (one KNN query) to vec0, leaving nothing to
/// check on the rows it returns: in the statement's bytecode, the loop over vec0's rows only
/// reads columns and returns them. Anything else there (a comparison, a function) is a term
/// SQLite applies after vec0 chose its top k.
fn filtered_by_vec0(conn: &rusqlite::Connection, sql: &str) -> bool {
    let Ok(mut stmt) = conn.prepare(&format!("explain {sql}")) else {
        return false;
    };
    // Unbound parameters are NULL; `explain` only compiles the statement.
    let Ok(ops) = stmt
        .raw_query()
        .mapped(|r| r.get::<_, String>(1))
        .collect::<rusqlite::Result<Vec<String>>>()
    else {
        return false;
    };
    let filters: Vec<usize> = (0..ops.len()).filter(|&i| ops[i] == "VFilter").collect();
    let [start] = filters[..] else {
        return false;
    };
    let Some(end) = ops[start..].iter().position(|op| op == "VNext") else {
        return false;
    };
    ops[start + 1..start + end].iter().all(|op| {
        matches!(
            op.as_str(),
            "VColumn" | "ResultRow" | "Copy" | "SCopy" | "RealAffinity" | "Noop"
        )
    })
}

/// SQLite's message for `e`, without the statement text rusqlite appends to syntax errors.
fn sql_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    }
}

/// Checks `--where` on its own, so a mistake in it is reported as one, and refuses vec0's
/// hidden KNN columns (`k`, `distance`, `ef_search`, `exact`): a row filter cannot set them.
fn check_filter(conn: &rusqlite::Connection, table: &Vec0Table, filter: &str) -> Result<()> {
    let columns: Vec<&str> = table.def.columns.iter().map(|c| c.name.as_str()).collect();
    if let Some(hidden) = identifiers(filter).into_iter().find(|name| {
        ["k", "distance", "ef_search", "exact"].contains(&name.as_str())
            && !columns.iter().any(|c| c.eq_ignore_ascii_case(name))
    }) {
        bail!(
            "--where filters rows by their columns, and {hidden:?} is an option of the KNN \
             query, not a column; use -k, --max-distance, --ef-search or --exact instead"
        );
    }
    conn.prepare(&format!(
        "select 1 from {} where {filter}",
        quote(&table.name)
    ))
    .map(drop)
    .map_err(|e| anyhow!("--where {filter:?}: {}", sql_message(&e)))
}

/// The identifiers of an SQL expression, lowercased (quoted ones unquoted); string literals
/// and numbers are skipped.
fn identifiers(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                }
            }
            '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let name: String = chars.by_ref().take_while(|&c| c != close).collect();
                names.push(name.to_ascii_lowercase());
            }
            c if c.is_ascii_digit() => {
                while chars
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                {
                    chars.next();
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut name = c.to_string();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '$' {
                        name.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                names.push(name.to_ascii_lowercase());
            }
            _ => {}
        }
    }
    names
}

/// Rows whose text contains the most of `substring`'s words (or the first two thirds of its
/// longer words, to catch a typo at the end), shortest first: what `--text` suggests when no
/// text contains the whole substring.
fn close_matches(
    conn: &rusqlite::Connection,
    table_sql: &str,
    text: &str,
    key: &str,
    substring: &str,
) -> Result<Vec<(Value, String)>> {
    let mut patterns: Vec<String> = Vec::new();
    for word in substring
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3)
    {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() >= 6 {
            patterns.push(chars[..chars.len().div_ceil(3) * 2].iter().collect());
        }
        patterns.push(word);
    }
    patterns.sort();
    patterns.dedup();
    patterns.truncate(16);
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let score = (1..=patterns.len())
        .map(|i| format!("(instr(lower({text}), ?{i}) > 0)"))
        .collect::<Vec<_>>()
        .join(" + ");
    let mut stmt = conn.prepare(&format!(
        "select {}, {text} from {table_sql} \
         where ({score}) > 0 order by ({score}) desc, length({text}) limit 5",
        quote(key)
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(&patterns), |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `--vector JSON` as the KNN query takes it: the JSON text for float columns (vec0 parses
/// it), the column's elements for int8 and bit columns, whose JSON vec0 would read as floats.
fn query_vector(json: &str, element: VectorElement) -> Result<Value> {
    if !matches!(element, VectorElement::Int8 | VectorElement::Bit) {
        return Ok(Value::Text(json.to_string()));
    }
    let vector: Vec<f32> = serde_json::from_str(json)
        .with_context(|| format!("--vector {json:?} is not a JSON array of numbers"))?;
    let mut blob = Vec::new();
    Encoder::new(element, None)?
        .stored(&vector, &mut blob)
        .map_err(|e| anyhow!("--vector: {e}"))?;
    Ok(Value::Blob(blob))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_skip_strings_and_numbers() {
        assert_eq!(
            identifiers(r#"lower(tag) = 'k = 1' or "Exact" > 1e5 and [ef_search] in (x'00')"#),
            vec!["lower", "tag", "or", "exact", "and", "ef_search", "in", "x"]
        );
    }
}
