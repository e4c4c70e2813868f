"""A dbt-duckdb plugin that lets MetricFlow (`mf query`) read the published serving data.

MetricFlow writes fully qualified names taken from the semantic manifest, which dbt wrote for
the build file: "ces"."marts"."fct_customer_engagement" (catalog = the build file's name,
schema = marts). The serving file holds the same marts as main.<mart>. The profile target
`serving` opens an in-memory database and this plugin, on every connection:
  - attaches the serving file read-only (a publish renames a new file over it and is never
    blocked; a reader keeps the snapshot it opened);
  - creates an in-memory catalog under the build's catalog name with one view per relation the
    semantic manifest names, each reading the served table of the same name.
So every metric is computed from exactly what BI tools read, and the build file is not opened.

Profile config: serving_path (the serving DuckDB file), semantic_manifest (dbt's
semantic_manifest.json for the project).
"""

from __future__ import annotations

import json
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin

SERVING_ALIAS = "ces_serving"


def relations(manifest: dict) -> list[dict]:
    """Every relation the semantic manifest reads: the semantic models' and the time spines'."""
    found = [m["node_relation"] for m in manifest.get("semantic_models", [])]
    config = manifest.get("project_configuration", {})
    found += [s["node_relation"] for s in config.get("time_spines", [])]
    found += [s["node_relation"] for s in config.get("time_spine_table_configurations", [])
              if "node_relation" in s]
    unique = {(r["database"], r["schema_name"], r["alias"]): r for r in found}
    return list(unique.values())


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        self.serving_path = Path(plugin_config["serving_path"])
        self.manifest_path = Path(plugin_config["semantic_manifest"])

    def configure_connection(self, conn) -> None:
        if not self.serving_path.exists():
            raise RuntimeError(f"ces: there is no serving data at {self.serving_path} yet: run `make build` "
                               "(it publishes the marts when the build passes)")
        if not self.manifest_path.exists():
            raise RuntimeError(f"ces: {self.manifest_path} does not exist: run `make build` (or `dbt parse`)")
        manifest = json.loads(self.manifest_path.read_text())
        conn.execute(f"attach '{self.serving_path}' as {SERVING_ALIAS} (read_only)")
        served = {name for (name,) in conn.execute(
            "select table_name from duckdb_tables() where database_name = ?", [SERVING_ALIAS]).fetchall()}
        # the views go only into in-memory catalogs attached here: never into the serving file
        # (attached read-only anyway) or any other database
        attached = {d for (d,) in conn.execute("select database_name from duckdb_databases()").fetchall()}
        ours: set[str] = set()
        for rel in relations(manifest):
            if rel["alias"] not in served:
                raise RuntimeError(f"ces: {self.serving_path} has no table {rel['alias']}: it was published "
                                   "before the semantic layer existed. Run `make build` to publish again.")
            catalog, schema = ident(rel["database"]), ident(rel["schema_name"])
            if rel["database"] not in ours:
                if rel["database"] in attached:
                    raise RuntimeError(f"ces: the build's catalog name {rel['database']!r} is taken in the serving "
                                       "connection: name the build file otherwise (CES_DUCKDB_PATH)")
                conn.execute(f"attach ':memory:' as {catalog}")
                ours.add(rel["database"])
            conn.execute(f"create schema if not exists {catalog}.{schema}")
            conn.execute(f"create or replace view {catalog}.{schema}.{ident(rel['alias'])} as "
                         f"select * from {SERVING_ALIAS}.main.{ident(rel['alias'])}")
