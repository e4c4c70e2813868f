"""The dbt vars as the Python steps see them: dbt_project.yml's defaults overlaid with the
--vars of this run (the Makefile's VARS=), parsed the way dbt parses them (YAML). The project is
the current directory (`ces --project-dir` changes to it): CES itself, or a host project that
installs CES as a package."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from cestools.errors import CesError


def parse_cli_vars(text: str | None) -> dict[str, Any]:
    """The --vars text as a dict; a message instead of a YAML traceback when it is malformed."""
    if not text or not text.strip():
        return {}
    try:
        parsed = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:
        # ValueError: YAML reads 2026-02-30 as a date and fails on the day
        raise CesError(f"VARS={text!r} cannot be read ({exc}). Write it as a YAML map, for example "
                       "VARS='{ces_window_days: 14, ces_as_of_date: \"2026-10-31\"}', and quote dates.") from exc
    if not isinstance(parsed, dict):
        raise CesError(f"VARS={text!r} is not a map of var names to values; write it as "
                       "VARS='{ces_window_days: 14}'.")
    return parsed


PACKAGE = "ces"


def ces_project(root: Path) -> dict[str, Any]:
    """CES's own dbt_project.yml: root's, or, in a host project that installs CES as a package,
    the installed package's (dbt_packages/ces)."""
    own = yaml.safe_load((root / "dbt_project.yml").read_text()) if (root / "dbt_project.yml").exists() else None
    if own is None:
        raise CesError(f"{root} is not a dbt project (no dbt_project.yml): run the command in your dbt "
                       "project's folder, or give it with --project-dir.")
    if own.get("name") == PACKAGE:
        return own
    installed = root / "dbt_packages" / PACKAGE / "dbt_project.yml"
    if not installed.exists():
        raise CesError(f"the dbt project in {root} ({own.get('name')}) has not installed CES: add it to "
                       "packages.yml and run `dbt deps` (README, \"Add it to your dbt project\").")
    return yaml.safe_load(installed.read_text())


def project_vars(cli_vars: str | None = None, root: Path | None = None) -> dict[str, Any]:
    """The vars CES's models see, as dbt resolves them: CES's defaults, then the root project's
    global vars and its vars scoped to ces (a host project's), then --vars."""
    root = root or Path.cwd()
    merged = dict(ces_project(root).get("vars") or {})
    host = yaml.safe_load((root / "dbt_project.yml").read_text()) or {}
    if host.get("name") != PACKAGE:
        scoped = host.get("vars") or {}
        merged.update({k: v for k, v in scoped.items() if not isinstance(v, dict) or k.startswith("ces_")})
        merged.update(scoped.get(PACKAGE) or {})
    merged.update(parse_cli_vars(cli_vars))
    return merged


# the seed each of the models' seed vars names by default (dbt_project.yml)
SEED_VARS = {"ces_event_weights_seed": "ces_event_weights", "ces_engagement_tiers_seed": "ces_engagement_tiers",
             "ces_outcomes_seed": "ces_outcomes", "ces_calibration_seed": "ces_calibration"}


def seed_names(root: Path | None = None) -> set[str]:
    """The seeds dbt will find: the CSV files under the project's seed-paths and under the
    seed folders of the packages installed in dbt_packages/."""
    root = root or Path.cwd()
    project = yaml.safe_load((root / "dbt_project.yml").read_text()) or {}
    folders = [root / p for p in project.get("seed-paths") or ["seeds"]]
    folders += sorted((root / "dbt_packages").glob("*/seeds"))
    return {p.stem for folder in folders for p in folder.rglob("*.csv")}


def check_seed_vars(values: dict[str, Any], root: Path | None = None) -> None:
    """Each seed var names a seed that exists; otherwise a message that names the var (dbt
    would stop at parse time naming only the missing node)."""
    seeds = seed_names(root)
    for var, default in SEED_VARS.items():
        name = values.get(var, default)
        if not isinstance(name, str) or not name.strip():
            raise CesError(f"VARS: {var} is {name!r}; allowed: the name of a seed (default {default}).")
        if name not in seeds:
            raise CesError(f"VARS: {var} is {name!r}, but no seed of that name exists (no {name}.csv under the "
                           f"seed-paths or in dbt_packages/). Add seeds/{name}.csv with the columns of "
                           f"seeds/{default}.csv and its column_types (seeds/_seeds.yml), or set {var} to "
                           f"an existing seed ({default} is the project's own).")


def vars_text(values: dict[str, Any]) -> str:
    """A dict back to the --vars text dbt reads (dates as quoted strings)."""
    return yaml.safe_dump({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()},
                          default_flow_style=True, width=10_000).strip()
