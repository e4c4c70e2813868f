"""What in a warehouse belongs to this project, and so what it may write, replace or drop.

Pure rules, no I/O: the engines list what a warehouse holds, these functions decide. The
project owns exactly:
  - the relations of its dbt models, seeds and stored test failures, as dbt's manifest lists
    them (and dbt's own __dbt_tmp / __dbt_backup copies of them);
  - the tables the demo generator wrote, which it lists in DEMO_MARKER as it writes them;
  - what the publish step wrote (cestools/serving.py names it and marks its schemas).
Every other table is the user's and is never written, replaced or dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cestools.errors import CesError

DEMO_SCHEMA = "demo"
DEMO_WORK_SCHEMA = "demo_work"
DEMO_MARKER = f"{DEMO_SCHEMA}.generated_tables"
# the dbt project's own record of its runs (macros/ces_build_log.sql): a table in the schema of
# the model int_months (intermediate.ces_build_log in the standalone project; artifacts.build_log)
BUILD_LOG_TABLE = "ces_build_log"
BUILD_LOG_ANCHOR = "int_months"
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")
# schemas that hold more than the project's relations on some engine: never dropped whole
NEVER_DROPPED = frozenset({"main", "public", "default", *SYSTEM_SCHEMAS})
# the raw contract (customer_outcomes is optional for the models)
RAW_TABLES = ("customers", "product_events", "support_tickets", "customer_outcomes")
# what the demo generator writes, in the order it lands them; the marker last
GENERATED_TABLES = [*(f"raw.{t}" for t in RAW_TABLES), "demo.customer_archetypes", "demo.planted_effects"]
DEFECTS_TABLE = "demo.injected_defects"


def built_by_project(name: str, built: set[str]) -> bool:
    """A relation dbt builds for this project, or one of dbt's temporary copies of it."""
    name = name.lower()
    for suffix in ("__dbt_tmp", "__dbt_backup"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name in built


@dataclass
class Contents:
    """Every table and view in a warehouse, sorted by who owns it."""
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
        if name in marked or schema == DEMO_WORK_SCHEMA and marked:
            contents.demo.append(name)
        elif schema in owned and (built is None or built_by_project(name, built)):
            contents.project.append(name)
        else:
            contents.user.append(name)
            if schema in owned:
                contents.user_in_project_schemas.append(name)
    return contents


def schemas_to_drop(owned: set[str], present: Iterable[str], keep: Iterable[str]) -> list[str]:
    """The one rule for dropping whole schemas, on every engine: only schemas the manifest
    builds, that exist, that the caller does not keep, and never a schema that holds more than
    the project's relations (main, public, default, the system's)."""
    return sorted((set(owned) & set(present)) - set(keep) - NEVER_DROPPED)


def renamed_raw_tables(project_vars: dict) -> dict[str, str]:
    """The raw contract tables that the vars ces_<table>_identifier name otherwise: {table: name}."""
    return {t: str(project_vars[f"ces_{t}_identifier"]) for t in RAW_TABLES
            if str(project_vars.get(f"ces_{t}_identifier", t)) != t}


def should_generate(contents: Contents, name: str, *, if_empty: bool, force: bool,
                    raw_schema: str, renamed: dict[str, str] | None = None,
                    raw_database: str | None = None) -> tuple[bool, str | None]:
    """The demo generator's rules, the same on every engine: (True, note) to write demo data,
    (False, note) to leave the warehouse as it is; a refusal raises CesError before anything
    is changed. The note says why, for the log."""
    if if_empty:
        if raw_database:
            return False, (f"ces_raw_database is {raw_database}: building on the tables there as they are "
                           "(demo data is written only into the warehouse's own raw schema)")
        if raw_schema != "raw":
            return False, (f"ces_raw_schema is {raw_schema}: building on the tables there as they are "
                           "(demo data is written only when the raw schema is raw and the warehouse holds no table)")
        if renamed:
            names = ", ".join(f"ces_{t}_identifier is {n}" for t, n in sorted(renamed.items()))
            return False, (f"{names}: building on your raw tables as they are (demo data is written only "
                           "under the raw contract's own table names)")
        if contents.user:
            return False, (f"{name} holds your own tables ({contents.describe_user()}): building on "
                           "them as they are; no demo data is written")
        if contents.demo_complete:
            return False, f"{name} already has demo data; leaving it as it is"
    elif contents.user and not force:
        raise CesError(
            f"{name} holds tables the demo generator did not write ({contents.describe_user()}), "
            "so it is treated as your data and nothing was changed. To score it, run `make build` "
            "(with VARS='{ces_raw_schema: <schema>}' if it is not in raw). To write demo data, use "
            "another warehouse (for DuckDB: CES_DUCKDB_PATH=warehouse/demo-data.duckdb make demo-data), or pass "
            "FORCE=1 (--force) to replace " + ", ".join(f"raw.{t}" for t in RAW_TABLES) + "; no "
            "other table is ever touched.")
    if not contents.user:
        return True, None
    in_our_schemas = [t for t in contents.user if t.split(".", 1)[0] in (DEMO_SCHEMA, DEMO_WORK_SCHEMA)]
    in_our_schemas += contents.user_in_project_schemas
    if in_our_schemas:
        raise CesError(f"{name} holds tables of yours in the schemas the demo generator writes "
                       f"and drops ({', '.join(in_our_schemas[:6])}), so even FORCE=1 does not "
                       "write demo data there. Use another warehouse.")
    replaced = [t for t in contents.user if t in GENERATED_TABLES]
    return True, ("FORCE: replacing " + (", ".join(replaced) or "no table of yours")
                  + "; every other table of yours stays as it is")


def check_landing(contents: Contents, names: list[str], where: str) -> None:
    """Refuse (CesError, nothing written) to land over a table the project did not write, or
    when a table of the user's sits in the demo schema, where the marker goes."""
    user = {t.lower() for t in contents.user}
    theirs = [n for n in names if n.lower() in user]
    theirs += [t for t in contents.user if t.split(".", 1)[0] == DEMO_SCHEMA]
    if theirs:
        raise CesError(f"{where} holds tables the project did not write ({', '.join(sorted(set(theirs))[:6])}): "
                       "landing would replace or add to them, so nothing was landed. Land into a warehouse "
                       "of your own (another CES_PG_DBNAME or CES_SPARK_DIR).")
