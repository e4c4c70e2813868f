"""What in a warehouse file belongs to this project, and so what it may write, replace or drop.

The project owns exactly:
  - the schemas of its dbt models, seeds and stored test failures, as listed in dbt's manifest;
  - the tables the demo generator wrote, which it lists in DEMO_MARKER as it writes them;
  - the serving files (cestools/publish.py writes them; nothing here touches them).
Every other table in the file is the user's and is never written, replaced or dropped.

    python -m cestools.warehouse --check [--vars YAML] [--built]    # before dbt: the VARS parse, the file is
                                                                    # not locked (--built: and holds the marts)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cestools import errors, settings
from cestools.errors import CesError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = "warehouse/ces.duckdb"
DEMO_SCHEMA = "demo"
DEMO_MARKER = f"{DEMO_SCHEMA}.generated_tables"
# the dbt project's own record of its runs (macros/ces_build_log.sql)
BUILD_LOG = "intermediate.ces_build_log"
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")


def project_objects(manifest: Path | None = None) -> tuple[set[str], set[str]]:
    """(schemas, schema.relation names) of the project's models, seeds and stored test failures,
    from dbt's manifest. Without a manifest (a fresh clone), `dbt parse` writes one into a
    temporary folder."""
    manifest = manifest or ROOT / "target" / "manifest.json"
    if not manifest.exists():
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(
                [str(Path(sys.executable).parent / "dbt"), "parse", "--target-path", tmp, "--quiet",
                 "--log-path", tmp], cwd=ROOT, capture_output=True, text=True,
                env={**os.environ, "DBT_PROFILES_DIR": str(ROOT / "profiles")})
            if proc.returncode != 0:
                raise CesError("dbt parse failed, so the project's own schemas are unknown and nothing "
                               f"was dropped:\n{proc.stdout[-2000:]}{proc.stderr[-1000:]}")
            return project_objects(Path(tmp) / "manifest.json")
    nodes = [n for n in json.loads(manifest.read_text())["nodes"].values()
             if n["package_name"] == "ces" and n["resource_type"] in ("model", "seed", "test")]
    relations = {f"{n['schema']}.{n['alias'] or n['name']}".lower() for n in nodes} | {BUILD_LOG}
    return {n["schema"] for n in nodes}, relations


def project_schemas(manifest: Path | None = None) -> set[str]:
    """Schemas of the project's models, seeds and stored test failures, from dbt's manifest."""
    return project_objects(manifest)[0]


def built_by_project(name: str, built: set[str]) -> bool:
    """A relation dbt builds for this project, or one of dbt's temporary copies of it."""
    name = name.lower()
    for suffix in ("__dbt_tmp", "__dbt_backup"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name in built


@dataclass
class Contents:
    """Every table and view in a warehouse file, sorted by who owns it."""
    project: list[str] = field(default_factory=list)   # in a schema dbt builds
    demo: list[str] = field(default_factory=list)      # written by the demo generator
    user: list[str] = field(default_factory=list)      # everything else: never touched
    demo_complete: bool = False                        # the generator finished writing
    # the user's tables that sit in a schema the project builds (and demo data would drop)
    user_in_project_schemas: list[str] = field(default_factory=list)

    def describe_user(self, most: int = 6) -> str:
        shown = ", ".join(self.user[:most])
        return shown + (f" and {len(self.user) - most} more" if len(self.user) > most else "")


def classify(tables: list[str], marker_rows: list[tuple[str, bool]], owned: set[str],
             built: set[str] | None = None) -> Contents:
    """Sort schema.table names by owner. marker_rows: (schema.table, complete) as the demo
    generator listed them in DEMO_MARKER (empty when there is no marker). built: the relations
    the manifest builds; with it, another table in one of the project's schemas is the user's
    (a team's own `marts.report` is not ours because the schema's name is)."""
    marked = {name for name, _ in marker_rows} | ({DEMO_MARKER} if marker_rows else set())
    contents = Contents(demo_complete=bool(marker_rows) and all(done for _, done in marker_rows))
    for name in tables:
        schema = name.split(".", 1)[0]
        if name in marked or schema == "demo_work" and marked:
            contents.demo.append(name)
        elif schema in owned and (built is None or built_by_project(name, built)):
            contents.project.append(name)
        else:
            contents.user.append(name)
            if schema in owned:
                contents.user_in_project_schemas.append(name)
    return contents


def inspect(con: duckdb.DuckDBPyConnection, owned: set[str], built: set[str] | None = None) -> Contents:
    tables = [f"{s}.{t}" for s, t in con.execute("""
        select schema_name, table_name from duckdb_tables() where database_name = current_database()
        union all
        select schema_name, view_name from duckdb_views()
        where database_name = current_database() and not internal
        order by 1, 2""").fetchall() if s not in SYSTEM_SCHEMAS]
    marker_rows = con.execute(f"select table_schema || '.' || table_name, complete from {DEMO_MARKER}"
                              ).fetchall() if DEMO_MARKER in tables else []
    return classify(tables, marker_rows, owned, built)


def drop_project_schemas(con: duckdb.DuckDBPyConnection, owned: set[str], keep: set[str]) -> list[str]:
    """Drop what dbt built (the manifest's schemas), so a new demo dataset starts from scratch:
    the incremental event layer describes the old raw data. Schemas in `keep` never go."""
    present = {s for (s,) in con.execute(
        "select schema_name from duckdb_schemas() where database_name = current_database()").fetchall()}
    dropped = sorted((owned & present) - keep - {"main", *SYSTEM_SCHEMAS})
    for schema in dropped:
        con.execute(f'drop schema "{schema}" cascade')
    return dropped


def check(path: str, cli_vars: str | None, built: bool = False) -> None:
    """Cheap checks before dbt runs, so their failures read as messages: VARS parses, and no
    other process holds the warehouse file (on PostgreSQL: the server answers). built: the
    command reads what dbt built (make docs), so a DuckDB file must hold the marts already."""
    settings.project_vars(cli_vars)
    if built and os.environ.get("CES_TARGET", "duckdb") == "duckdb":
        marts = []
        if os.path.exists(path):
            con = errors.connect(path, read_only=True)
            try:
                marts = con.execute("select 1 from duckdb_schemas() where database_name = current_database() "
                                    "and schema_name = 'marts'").fetchall()
            finally:
                con.close()
        if not marts:
            raise CesError(f"{path} holds no built marts yet, and the docs site reads their columns and types "
                           "from the warehouse: run `make build` first (or set CES_DUCKDB_PATH to a built file).")
    from cestools import engines

    engine = engines.target()
    if engine == "postgres":
        engines.pg_connect().close()
    elif engine == "spark":
        engines.check_spark()
    elif os.path.exists(path):
        errors.connect(path).close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--check", action="store_true", required=True)
    p.add_argument("--path", default=os.environ.get("CES_DUCKDB_PATH", DEFAULT_PATH))
    p.add_argument("--vars", default=None)
    p.add_argument("--built", action="store_true", help="the command reads the built marts (make docs)")
    a = p.parse_args(argv)
    check(a.path, a.vars, a.built)
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
