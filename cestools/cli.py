"""The `ces` command: CES's steps beside dbt, on a dbt project's build.

    ces <command> [--project-dir DIR] [the command's options]

Each command runs in the dbt project at --project-dir (default: the current directory): this
repository, or a host project that installs CES as a package (README, "Add it to your dbt
project"). It reads that project's dbt_project.yml vars, its target/ folder and the warehouse
its profile names. `ces <command> --help` lists a command's own options. The Makefile runs the
same commands.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from cestools import errors

# command: (module whose main runs it, the arguments put before the user's, what it does)
COMMANDS: dict[str, tuple[str, list[str], str]] = {
    "demo-data": ("cestools.demo_data", [], "write the demo raw data (only where no table is someone else's)"),
    "preflight": ("cestools.preflight", [], "check the vars and that the warehouse answers, before dbt build"),
    "publish": ("cestools.publish", [], "copy the public marts to where BI reads them, after a build that passed"),
    "summary": ("cestools.summary", [], "print the scores per segment of the last build"),
    "weights-impact": ("cestools.weights_impact", [], "what a change of weights does to the scores"),
    "backtest": ("cestools.backtest", ["report"], "how well each weights version and flag predicted the outcomes"),
    "suggest-weights": ("cestools.backtest", ["suggest-weights"], "fit weights on the backtest (a candidate seed)"),
    "suggest-thresholds": ("cestools.backtest", ["suggest-thresholds"], "the flag thresholds with the best F1"),
    "calibrate": ("cestools.calibration", [], "fit an outcome's probability on the backtest (a candidate seed)"),
    "dashboard": ("cestools.dashboard.__main__", [], "the dashboard on the published data"),
    "spark-cluster": ("cestools.engines.spark_cluster", [], "start or stop a Spark cluster on this machine (start|stop)"),
}


def parser(add_help: bool = True) -> argparse.ArgumentParser:
    """ces's own arguments; without add_help, `ces <command> --help` reaches the command."""
    p = argparse.ArgumentParser(
        prog="ces", description=__doc__.split("\n\n")[0], add_help=add_help,
        epilog="commands:\n" + "\n".join(f"  {name:<20}{what}" for name, (_, _, what) in COMMANDS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=COMMANDS, metavar="command", help="one of the commands below")
    p.add_argument("--project-dir", type=Path, default=Path.cwd(),
                   help="the dbt project to run in (default: the current directory)")
    return p


def in_project(project_dir: Path) -> Path:
    """Change to the dbt project's folder, or say why it is not one."""
    project_dir = project_dir.expanduser().resolve()
    if not (project_dir / "dbt_project.yml").is_file():
        raise errors.CesError(f"--project-dir {project_dir} holds no dbt_project.yml: give the folder of "
                              "your dbt project (the one you run dbt in).")
    os.chdir(project_dir)
    return project_dir


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        parser().print_help()
        return 0 if argv else 2
    known, rest = parser(add_help=False).parse_known_args(argv)
    module, prefix, _ = COMMANDS[known.command]
    in_project(known.project_dir)
    # each command's failures are printed under its own name, as `make` shows them, and its
    # usage line (argparse's prog comes from argv[0]) names it as typed: `ces publish`
    program = sys.argv[0] if sys.argv else ""
    sys.argv[0:1] = [f"ces {known.command}"]
    try:
        return errors.run(importlib.import_module(module).main, [*prefix, *rest])
    finally:
        sys.argv[0:1] = [program]


def run() -> int:
    """The console script's entry point (pyproject.toml): every failure a message, not a traceback."""
    return errors.run(main)


if __name__ == "__main__":
    sys.exit(run())
