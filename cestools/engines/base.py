"""The one interface every engine implements: what cestools does to a warehouse outside dbt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cestools.artifacts import qualify
from cestools.config import Config
from cestools.ownership import DEMO_MARKER, Contents, classify

Log = Callable[[str], None]


def quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


class Warehouse:
    """A connection to a built warehouse, on whichever engine holds it. Subclasses say how to
    query it, list its relations, land DuckDB tables in it, find its newest recorded build,
    publish its marts and tell BI tools where to connect."""

    engine = "base"
    # demo data is generated in a scratch DuckDB file and landed (True), or written in place
    lands_from_scratch = True

    def __init__(self, name: str, con, cfg: Config) -> None:
        self.name, self.con, self.cfg = name, con, cfg
        # where the project's models were built, by name (artifacts.relation_names); empty: the
        # project's own layer schemas
        self.names: dict[str, str] = {}

    @classmethod
    def open(cls, cfg: Config, read_only: bool = True) -> Warehouse:
        """Connect to the warehouse cfg names."""
        raise NotImplementedError

    # ---- queries. cestools writes CES's relations as <layer schema>.<model> (marts.fct_...);
    # qualify() maps each to where the manifest says it was built, which a host project that
    # installs CES as a package may choose (README, "Add it to your dbt project")
    def fetchall(self, sql: str, *params) -> list[tuple]:
        return self._fetchall(qualify(sql, self.names), *params)

    def execute(self, sql: str, *params) -> None:
        self._execute(qualify(sql, self.names), *params)

    def frame(self, sql: str):
        """The rows of a query as a pandas DataFrame, with the query's column names."""
        return self._frame(qualify(sql, self.names))

    def _fetchall(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def _execute(self, sql: str) -> None:
        raise NotImplementedError

    def _frame(self, sql: str):
        raise NotImplementedError

    def close(self) -> None:
        self.con.close()

    def ident(self, name: str) -> str:
        """A quoted identifier."""
        return '"' + name.replace('"', '""') + '"'

    # ---- what it holds
    def schemas(self) -> list[str]:
        raise NotImplementedError

    def relations(self) -> list[str]:
        """Every table and view as schema.name, outside the system schemas."""
        raise NotImplementedError

    def marked_serving_schemas(self) -> set[str]:
        """Schemas the publish step created and marked (cestools/serving.py)."""
        return set()

    def contents(self, owned: set[str], built: set[str] | None = None) -> Contents:
        """The warehouse's relations sorted by owner (cestools/ownership.py). The serving
        schemas the publish step marked are the project's, with everything in them."""
        tables = self.relations()
        serving = self.marked_serving_schemas()
        owned = owned | serving
        if built is not None and serving:
            built = built | {t.lower() for t in tables if t.split(".", 1)[0] in serving}
        marker_rows: list[tuple[str, bool]] = []
        if DEMO_MARKER in tables:
            marker_rows = [(str(n), bool(c)) for n, c in self.fetchall(
                f"select concat(table_schema, '.', table_name), complete from {DEMO_MARKER}")]
        return classify(tables, marker_rows, owned, built)

    def recorded_build(self, build_log: str) -> str | None:
        """The invocation id of the newest `dbt build` the warehouse itself recorded in
        build_log (macros/ces_build_log.sql; artifacts.build_log finds it), or None."""
        if build_log not in {t.lower() for t in self.relations()}:
            return None
        rows = self.fetchall(f"select invocation_id from {build_log} where command = 'build' "
                             "order by started_at desc limit 1")
        return rows[0][0] if rows else None

    # ---- what it does
    def drop_schema(self, schema: str) -> None:
        """Drop a schema the project owns (callers check that with ownership.schemas_to_drop)."""
        self.execute(f"drop schema if exists {self.ident(schema)} cascade")

    def land(self, duck_path: Path, tables: list[tuple[str, str]], where: str = "true",
             append: bool = False, log: Log | None = None) -> dict[str, int]:
        """Copy DuckDB tables (schema, table) into this warehouse under the same names, replacing
        each (append: adding one more load). Returns rows per table; log, if given, gets a line
        per table landed (the caller chooses where progress goes)."""
        raise NotImplementedError

    def publish(self, marts: list[tuple[str, str]], with_pii: bool, invocation: str, log: Log) -> str:
        """Copy the public marts to where BI tools read them, atomically for a reader. Returns
        where they went, for the log ("to <file>", "as the views of ...")."""
        raise NotImplementedError

    def bi_hint(self) -> str:
        """Where BI tools connect, in one line."""
        raise NotImplementedError

    @classmethod
    def preflight(cls, cfg: Config, built: bool = False) -> None:
        """Cheap checks before dbt runs, so their failures read as messages. built: the command
        reads what dbt built (make docs), where the engine can tell cheaply."""
