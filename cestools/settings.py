"""The dbt vars as the Python steps see them: dbt_project.yml's defaults overlaid with the
--vars of this run (the Makefile's VARS=), parsed the way dbt parses them (YAML)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from cestools.config import ROOT
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


def project_vars(cli_vars: str | None = None, root: Path = ROOT) -> dict[str, Any]:
    project = yaml.safe_load((root / "dbt_project.yml").read_text())
    merged = dict(project.get("vars") or {})
    merged.update(parse_cli_vars(cli_vars))
    return merged


# the seed each of the models' seed vars names by default (dbt_project.yml)
SEED_VARS = {"ces_event_weights_seed": "ces_event_weights", "ces_engagement_tiers_seed": "ces_engagement_tiers",
             "ces_outcomes_seed": "ces_outcomes", "ces_calibration_seed": "ces_calibration"}


def seed_names(root: Path = ROOT) -> set[str]:
    """The seeds dbt will find: the CSV files under the project's seed-paths and under the
    seed folders of the packages installed in dbt_packages/."""
    project = yaml.safe_load((root / "dbt_project.yml").read_text()) or {}
    folders = [root / p for p in project.get("seed-paths") or ["seeds"]]
    folders += sorted((root / "dbt_packages").glob("*/seeds"))
    return {p.stem for folder in folders for p in folder.rglob("*.csv")}


def check_seed_vars(values: dict[str, Any], root: Path = ROOT) -> None:
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
