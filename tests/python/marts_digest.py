"""An order-independent digest of every public mart of a DuckDB build: its row count and the
sum of an MD5 of each row's canonical text. Two builds with equal digests hold the same rows
(as multisets), to the precision of the canonical text (decimals as they are, doubles to 6
places).

    python tests/python/marts_digest.py BUILD.duckdb MANIFEST.json > digest.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb


def canonical(con: duckdb.DuckDBPyConnection, table: str) -> str:
    cols = con.execute("""select column_name, data_type from duckdb_columns()
                          where schema_name = 'marts' and table_name = ? order by column_name""",
                       [table]).fetchall()
    parts = []
    for name, data_type in cols:
        value = f'round("{name}", 6)' if data_type in ("DOUBLE", "FLOAT") else f'"{name}"'
        parts.append(f"coalesce(cast({value} as varchar), '<null>')")
    return "concat_ws('|', " + ", ".join(parts) + ")"


def digest(db: Path, manifest: Path) -> dict[str, list[int | str]]:
    nodes = json.loads(manifest.read_text())["nodes"].values()
    marts = sorted(n["name"] for n in nodes if n["resource_type"] == "model" and n.get("access") == "public")
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for mart in marts:
            rows, total = con.execute(
                f"select count(*), coalesce(sum(cast(md5_number({canonical(con, mart)}) >> 80 as bigint)), 0) "
                f"from marts.{mart}").fetchone()
            out[mart] = [rows, str(total)]
        return out
    finally:
        con.close()


if __name__ == "__main__":
    print(json.dumps(digest(Path(sys.argv[1]), Path(sys.argv[2])), indent=1, sort_keys=True))
