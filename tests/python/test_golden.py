"""Every public mart, row for row, equals a stored result, so a refactoring that is not meant to
change a number cannot change one unnoticed.

tests/python/golden/marts_seed11_defects_60k.json holds, per public mart, its row count and the
sum of an MD5 of each row's canonical text (tests/python/marts_digest.py) on the demo data of
seed 11 with every defect, 60,000 events and 400 customers. It was first written by the models
as they were before the scoring chain was unified (commit a97acf6), and was regenerated once, by
the models of the commit that made the demo tell one story (issue 21: new demo data, new flag
defaults and a new shipped calibration), after the oracle, the backtest and the calibration
tests had passed on them; the oracle and the dbt unit tests check the marts independently.
A change that is meant to change the marts (new demo data, a new rule) regenerates it and says
so in its commit:

    python -m cestools.demo_data --path /tmp/g/ces.duckdb --seed 11 --defects --events 60000 --customers 400
    CES_DUCKDB_PATH=/tmp/g/ces.duckdb dbt build --target-path /tmp/g/target
    python tests/python/marts_digest.py /tmp/g/ces.duckdb /tmp/g/target/manifest.json > tests/python/golden/...
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import dbt, generate
from marts_digest import digest

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).parent / "golden" / "marts_seed11_defects_60k.json"


def test_every_public_mart_equals_the_stored_result_of_the_models_before_the_redesign(tmp_path):
    db = tmp_path / "ces.duckdb"
    generate(db, "--seed", "11", "--defects", "--events", "60000", "--customers", "400")
    dbt(db, "build")
    stored = json.loads(GOLDEN.read_text())
    built = digest(db, tmp_path / "target" / "manifest.json")
    assert set(built) == set(stored), f"public marts added or gone: {set(built) ^ set(stored)}"
    differing = {m: (stored[m], built[m]) for m in stored if built[m] != stored[m]}
    assert not differing, f"marts that differ from the stored result (rows, digest): {differing}"
