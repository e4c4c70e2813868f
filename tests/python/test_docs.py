"""`make docs`: the dbt docs site as one static file, with every model, column description and
the BI exposure; a warehouse file that was never built gets a message, and no file."""

from __future__ import annotations

import json

import pytest
from conftest import copy_project, dbt, generate, make

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow


def test_make_docs_writes_one_static_file_with_every_model_and_the_exposure(tmp_path):
    project = copy_project(tmp_path / "project")
    db, serving = tmp_path / "wh" / "ces.duckdb", tmp_path / "wh" / "serving.duckdb"

    missing = make(project, "docs", db, serving)
    assert missing.returncode != 0 and "run `make build` first" in missing.stderr, missing.stderr[-2000:]
    assert not db.exists(), "a refused make docs creates no warehouse file"

    generate(db, "--events", "5000", "--customers", "50", "--seed", "5")
    dbt(db, "build")
    built = make(project, "docs", db, serving)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    page = project / "target" / "static_index.html"
    assert f"docs: {page}" in built.stdout
    html = page.read_text()
    manifest = json.loads((db.parent / "target" / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["package_name"] == "ces"]
    assert len(models) >= 20
    for node in models:
        assert f"model.ces.{node['name']}" in html, node["name"]
        for column in node["columns"].values():
            assert column["description"], f"{node['name']}.{column['name']} has no description"
    assert "exposure.ces.bi_serving" in html
    # the catalog (types as the warehouse reports them, upper case in DuckDB) is inside the page too
    assert "DECIMAL(18,4)" in html, "the catalog's column types are in the page"
