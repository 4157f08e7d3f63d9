//! `vecsql sql`: runs one or more SQL statements with vecsql registered and prints the rows of
//! each statement that returns any columns.

use anyhow::{Context, Result};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::Batch;

use crate::output;
use crate::SqlArgs;

pub fn run(args: &SqlArgs) -> Result<()> {
    let conn = crate::open(&args.db, true)?;
    let mut batch = Batch::new(&conn, &args.sql);
    let mut printed_table = false;
    while let Some(mut stmt) = batch.next().context("preparing the SQL")? {
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        if names.is_empty() {
            stmt.raw_execute().context("running the SQL")?;
            continue;
        }
        let mut rows = stmt.raw_query();
        let mut table = output::table(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let mut numeric = vec![true; names.len()];
        let mut count = 0u64;
        while let Some(row) = rows.next().context("running the SQL")? {
            count += 1;
            if args.json {
                let object: serde_json::Map<String, serde_json::Value> = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| Ok((n.clone(), output::json(row.get_ref(i)?))))
                    .collect::<rusqlite::Result<_>>()?;
                println!("{}", serde_json::Value::Object(object));
                continue;
            }
            let mut cells = Vec::with_capacity(names.len());
            for (i, is_number) in numeric.iter_mut().enumerate() {
                let value = row.get_ref(i)?;
                *is_number &= matches!(
                    value,
                    rusqlite::types::ValueRef::Integer(_) | rusqlite::types::ValueRef::Real(_)
                );
                cells.push(output::cell(value, args.width));
            }
            table.add_row(cells);
        }
        if !args.json {
            if printed_table {
                println!();
            }
            let right: Vec<usize> = (0..names.len())
                .filter(|&i| numeric[i] && count > 0)
                .collect();
            output::align_right(&mut table, &right);
            println!("{table}");
            println!(
                "{} row{}",
                output::count(count),
                if count == 1 { "" } else { "s" }
            );
            printed_table = true;
        }
    }
    Ok(())
}
