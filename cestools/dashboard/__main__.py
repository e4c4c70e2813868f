"""Start the dashboard: python -m cestools.dashboard [--port 8501] [--serving PATH]

Streamlit on 127.0.0.1 only, headless, no usage statistics, no file watcher, and error details
kept to the console (the page shows a message, never a traceback). Streamlit runs in this
process after pandas, Altair and DuckDB are imported, so the first page view does not pay for
the imports.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cestools import config

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("app.py")
STREAMLIT_FLAGS = ["--server.headless", "true", "--browser.gatherUsageStats", "false",
                   "--server.fileWatcherType", "none", "--server.runOnSave", "false",
                   "--client.showErrorDetails", "none", "--client.toolbarMode", "minimal", "--theme.base", "light"]


def command(port: int, serving: Path | str) -> list[str]:
    """The command that starts the dashboard on port, reading the serving file."""
    return [sys.executable, "-m", "cestools.dashboard", "--port", str(port), "--serving", str(serving)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--serving", default=None, help="the serving DuckDB file (default: CES_SERVING_PATH)")
    args = parser.parse_args(argv)
    if args.serving:
        os.environ["CES_SERVING_PATH"] = str(Path(args.serving).resolve())
    serving = config.load().serving_path
    # the app imports cestools.dashboard.data: the repository must be importable wherever this runs
    sys.path.insert(0, str(ROOT))
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    import altair  # noqa: F401  - imported once here, not on the first page view
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    from streamlit.web import cli

    print(f"[dashboard] http://127.0.0.1:{args.port}/ reading {serving} (read-only); Ctrl-C stops it", flush=True)
    return cli.main(["run", str(APP), "--server.address", "127.0.0.1", "--server.port", str(args.port),
                     *STREAMLIT_FLAGS], prog_name="streamlit", standalone_mode=False) or 0


if __name__ == "__main__":
    raise SystemExit(main())
