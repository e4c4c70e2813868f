"""What Python knows of dbt: the project's relations (manifest.json) and whether the newest dbt
command passed whole (run_results.json). The publish gate lives here, as pure checks on the
artifacts, so it is tested without a warehouse."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from cestools.config import PROFILES_DIR
from cestools.errors import CesError
from cestools.ownership import BUILD_LOG_ANCHOR, BUILD_LOG_TABLE

PACKAGE = "ces"
PASSED = ("success", "pass", "warn")
GATED = ("model", "seed", "test", "unit_test")


def project_objects(manifest: Path | None = None, project_dir: Path | None = None) -> tuple[set[str], set[str]]:
    """(schemas, schema.relation names) of CES's models, seeds and stored test failures, from the
    manifest of the dbt project in project_dir (default: the current directory). Without a
    manifest (a fresh clone), `dbt parse` writes one into a temporary folder."""
    project_dir = project_dir or Path.cwd()
    manifest = manifest or project_dir / "target" / "manifest.json"
    if not manifest.exists():
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(
                [str(Path(sys.executable).parent / "dbt"), "parse", "--target-path", tmp, "--quiet",
                 "--log-path", tmp], cwd=project_dir, capture_output=True, text=True,
                # the profiles dbt is given (the Makefile's), else the repository's
                env={"DBT_PROFILES_DIR": str(PROFILES_DIR), **os.environ})
            if proc.returncode != 0:
                raise CesError("dbt parse failed, so the project's own schemas are unknown and nothing "
                               f"was dropped:\n{proc.stdout[-2000:]}{proc.stderr[-1000:]}")
            return project_objects(Path(tmp) / "manifest.json", project_dir)
    parsed = json.loads(manifest.read_text())
    built = [n for n in parsed["nodes"].values() if n["resource_type"] in ("model", "seed", "test")]
    nodes = [n for n in built if n["package_name"] == PACKAGE]
    relations = {f"{n['schema']}.{n['alias'] or n['name']}".lower() for n in nodes} | {build_log(parsed)}
    # a schema that also holds a host project's own models (CES installed as a package, sharing
    # a schema with them) is not the project's to drop
    shared = {n["schema"] for n in built if n["package_name"] != PACKAGE}
    return {n["schema"] for n in nodes} - shared, relations


def build_log(manifest: dict) -> str:
    """schema.table of the warehouse's own record of its dbt runs (macros/ces_build_log.sql): beside
    CES's intermediate models, wherever the project that builds them puts them."""
    for node in manifest["nodes"].values():
        if node["package_name"] == PACKAGE and node["resource_type"] == "model" and node["name"] == BUILD_LOG_ANCHOR:
            return f"{node['schema']}.{BUILD_LOG_TABLE}".lower()
    raise CesError(f"the manifest has no CES model {BUILD_LOG_ANCHOR}: is CES installed (dbt deps) in this project?")


def relation_names(manifest_path: Path) -> dict[str, str]:
    """{name: schema.relation} of CES's models and seeds, and of its build log, from the manifest
    (empty without one: the project's own layer schemas). A host project that installs CES as a
    package chooses their schemas."""
    if not manifest_path.exists():
        return {}
    manifest = json.loads(manifest_path.read_text())
    names = {n["name"]: f"{n['schema']}.{n['alias'] or n['name']}" for n in manifest["nodes"].values()
             if n["package_name"] == PACKAGE and n["resource_type"] in ("model", "seed")}
    return {**names, BUILD_LOG_TABLE: build_log(manifest)} if names else {}


# how cestools writes CES's relations in its SQL: the standalone project's layer schema, then the name
LAYER_QUALIFIED = re.compile(r"\b(?:staging|intermediate|marts|seeds)\.([a-z_][a-z0-9_]*)\b")


def qualify(sql: str, names: dict[str, str]) -> str:
    """sql with each <layer>.<name> of CES's relations written where names says it was built;
    a name names does not hold stays as it is."""
    if not names:
        return sql
    return LAYER_QUALIFIED.sub(lambda m: names.get(m.group(1), m.group(0)), sql)


def public_marts(manifest_path: Path) -> list[tuple[str, str]]:
    """(schema, name) of every public model with an enforced contract, from the manifest."""
    manifest = json.loads(manifest_path.read_text())
    marts = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["package_name"] != PACKAGE:
            continue
        if node.get("access") == "public" and node["config"].get("contract", {}).get("enforced"):
            marts.append((node["schema"], node["name"]))
    if not marts:
        raise CesError(f"no public contracted models in {manifest_path}: run make build first")
    return sorted(marts, key=lambda m: m[1])


def build_gate(run: dict, manifest: dict, target: Path) -> str:
    """The publish gate on the artifacts' contents: the newest dbt command is a `dbt build` that
    ran every model, seed and test of the project, and each one passed (a warning is allowed).
    Returns the build's invocation id; otherwise raises CesError saying what to do."""
    command = run.get("args", {}).get("which")
    if command != "build":
        raise CesError(f"nothing is published: the newest dbt command recorded in {target}/ is "
                       f"`dbt {command}`, not a `dbt build`. Run `make build` (or `dbt build`, then "
                       "`make publish` right after it).")
    # what the build ran and tested; an exposure (a record of who reads the marts) runs nothing
    # and is reported as no-op
    statuses = {r["unique_id"]: r["status"] for r in run["results"] if r["unique_id"].split(".")[0] in GATED}
    bad = sorted((status, uid.split(".")[-1]) for uid, status in statuses.items() if status not in PASSED)
    if bad:
        counts: dict[str, int] = {}
        for status, _ in bad:
            counts[status] = counts.get(status, 0) + 1
        named = ", ".join(f"{name} ({status})" for status, name in bad if status != "skipped")
        raise CesError("nothing is published: the newest dbt build did not pass ("
                       + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
                       + f"{': ' + named[:600] if named else ''}). Fix what its output says and run "
                       "`make build` again; the serving data was left as it was.")
    expected = {uid for uid, n in {**manifest["nodes"], **manifest.get("unit_tests", {})}.items()
                if n["package_name"] == PACKAGE and n["resource_type"] in GATED}
    missing = expected - statuses.keys()
    if missing:
        raise CesError(f"nothing is published: the newest dbt build ran {len(expected) - len(missing)} of "
                       f"the project's {len(expected)} models, seeds and tests (a build with --select, "
                       "such as `make weights-impact`). Publishing needs a whole build that passed: "
                       "run `make build`.")
    return run["metadata"]["invocation_id"]


def check_run_results(target: Path) -> str:
    """Refuse (CesError) unless the newest dbt command recorded in target/ is a whole `dbt build`
    that passed. Returns its invocation id."""
    results_path, manifest_path = target / "run_results.json", target / "manifest.json"
    if not results_path.exists() or not manifest_path.exists():
        raise CesError(f"nothing is published: {target}/ holds no record of a dbt build. Run "
                       "`make build`, which publishes when the build passes.")
    return build_gate(json.loads(results_path.read_text()), json.loads(manifest_path.read_text()), target)


def check_same_warehouse(invocation: str, recorded: str | None, where: str, results_path: Path) -> None:
    """The build in run_results.json must be the newest build the warehouse itself recorded."""
    if recorded != invocation:
        raise CesError(f"nothing is published: {results_path} records a dbt build of another warehouse, "
                       f"not of {where} (its newest build is {recorded or 'none'}, the record's is "
                       f"{invocation}). Run `make build` on this warehouse.")
