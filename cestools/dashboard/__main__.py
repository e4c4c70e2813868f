"""Start the dashboard: python -m cestools.dashboard [--port 8501] [--serving PATH]

Streamlit on 127.0.0.1 only, headless, no usage statistics, no file watcher, and error details
kept to the console (the page shows a message, never a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("app.py")


def command(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--server.runOnSave", "false", "--client.showErrorDetails", "none",
            "--client.toolbarMode", "minimal", "--theme.base", "light"]


def environment(serving: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if serving:
        env["CES_SERVING_PATH"] = str(Path(serving).resolve())
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--serving", default=None, help="the serving DuckDB file (default: CES_SERVING_PATH)")
    args = parser.parse_args(argv)
    env = environment(args.serving)
    serving = env.get("CES_SERVING_PATH", "warehouse/serving.duckdb")
    print(f"[dashboard] http://127.0.0.1:{args.port}/ reading {serving} (read-only); Ctrl-C stops it", flush=True)
    os.execvpe(sys.executable, command(args.port), env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
