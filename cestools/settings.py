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


def vars_text(values: dict[str, Any]) -> str:
    """A dict back to the --vars text dbt reads (dates as quoted strings)."""
    return yaml.safe_dump({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()},
                          default_flow_style=True, width=10_000).strip()
