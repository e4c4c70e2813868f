"""Land DuckDB tables in a PostgreSQL or Spark warehouse, under the ownership rules.

    python -m cestools.landing --from DUCKDB_FILE [--tables raw.customers,...] [--where SQL] [--append]

Lands DuckDB tables in the CES_TARGET warehouse (postgres or spark), replacing them, or
appending one more load with --append. The tests and the benchmark use it to land loads in
warehouses of their own. It keeps the ownership rules of the demo generator: a table that
exists and that the project did not write (a team's own raw.customers) is never replaced or
appended to. What it lands it lists in the demo marker, as the generator does, so a later
--append may add to it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from cestools import artifacts, config, engines, errors, ownership
from cestools.engines import Warehouse
from cestools.leftovers import scratch_folder
from cestools.ownership import DEMO_MARKER, DEMO_SCHEMA, RAW_TABLES, Contents


def check_landing_is_ours(wh: Warehouse, names: list[str]) -> Contents:
    """Refuse (CesError, nothing written) to land over a table the project did not write.
    Returns the warehouse's contents before the landing."""
    owned, built = artifacts.project_objects()
    contents = wh.contents(owned, built)
    ownership.check_landing(contents, names, wh.name)
    return contents


def mark_landed(wh: Warehouse, tables: list[tuple[str, str]], contents: Contents) -> None:
    """List the landed tables in the demo marker (keeping its rows), landed like any table.
    contents: the warehouse's tables before the landing (check_landing_is_ours)."""
    present = {t.lower() for t in [*contents.project, *contents.demo, *contents.user]}
    rows = wh.fetchall(f"select table_schema, table_name, seed, events, customers, generated_at, complete "
                       f"from {DEMO_MARKER}") if DEMO_MARKER in present else []
    known = {(r[0], r[1]) for r in rows}
    with scratch_folder("landing") as tmp:
        marker = tmp / "marker.duckdb"
        con = duckdb.connect(str(marker))
        try:
            con.execute(f"create schema {DEMO_SCHEMA}")
            con.execute(f"""create table {DEMO_MARKER} (table_schema varchar, table_name varchar,
                seed integer, events bigint, customers integer, generated_at timestamp, complete boolean)""")
            for row in rows:
                con.execute(f"insert into {DEMO_MARKER} values (?, ?, ?, ?, ?, ?, ?)", list(row))
            for schema, table in tables:
                if (schema, table) not in known:
                    con.execute(f"insert into {DEMO_MARKER} values (?, ?, null, null, null, now(), true)",
                                [schema, table])
        finally:
            con.close()
        wh.land(marker, [(DEMO_SCHEMA, "generated_tables")])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--from", dest="source", type=Path, required=True)
    p.add_argument("--tables", default=",".join(f"raw.{t}" for t in RAW_TABLES))
    p.add_argument("--where", default="true", help="a filter on every table's rows (DuckDB SQL)")
    p.add_argument("--append", action="store_true")
    a = p.parse_args(argv)
    tables = [tuple(t.split(".", 1)) for t in a.tables.split(",")]
    wh = engines.open_warehouse(config.load(), read_only=False)
    try:
        contents = check_landing_is_ours(wh, [f"{schema}.{table}" for schema, table in tables])
        landed = wh.land(a.source, tables, a.where, a.append,  # type: ignore[arg-type]
                         log=lambda m: print(f"[landing] {m}", flush=True))
        mark_landed(wh, tables, contents)
    finally:
        wh.close()
    print("landed in " + wh.name + ": " + ", ".join(f"{k} {v:,}" for k, v in landed.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
