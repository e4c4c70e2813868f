"""What the publish step serves, and how it names and marks what it writes: pure rules shared
by every engine's publisher (cestools/engines/) and by the ownership checks."""

from __future__ import annotations

import re

# customer_name is personal data: served only when the dbt var ces_serve_customer_name is true
PII_COLUMNS = ("customer_name",)
# the comment on every schema or database the publish step creates; it replaces nothing without it
SERVING_MARK = "published by the CES warehouse: replaced on every publish"


def served_columns(columns: list[str], with_pii: bool) -> list[str]:
    """The columns of a mart that are served, in order."""
    return [c for c in columns if with_pii or c not in PII_COLUMNS]


def build_table(mart: str, invocation: str) -> str:
    """The table one build's copy of a mart is published to, on engines that serve views over
    per-build tables (Spark): <mart>__b<12 hex of the build's invocation id>."""
    return f"{mart}__b{invocation.replace('-', '')[:12]}"


def is_earlier_build_table(table: str, marts: list[str], invocation: str) -> bool:
    """A table an earlier publish wrote (build_table of another build), and so one a publish may
    drop; anything else in the serving store stays."""
    pattern = "^(" + "|".join(re.escape(m) for m in marts) + r")__b[0-9a-f]{12}$"
    return bool(re.match(pattern, table)) and table not in {build_table(m, invocation) for m in marts}


# a file the publish step writes before its atomic rename (or the benchmark's work folder):
# .<final name>.ces-<pid>.tmp, where pid is the writing process; DuckDB adds .wal to a database
# file's name while it writes
TEMPORARY = re.compile(r"^\.(?P<final>.+)\.ces-(?P<pid>[0-9]+)\.tmp(\.wal)?$")


def temporary_name(final: str, pid: int) -> str:
    """The name of the temporary file a process writes before it renames it to final."""
    return f".{final}.ces-{pid}.tmp"


def leftover_temporaries(names: list[str], finals: set[str], is_alive) -> list[str]:
    """The names that a process may remove: temporaries (TEMPORARY) of one of the names it
    writes there (finals: the files a publish publishes, the benchmark's work folder) written by
    a process that is no longer alive. A file of a live process (a publish still writing), or
    any other name, is never one of them."""
    found = []
    for name in names:
        match = TEMPORARY.match(name)
        if match and match["final"] in finals and not is_alive(int(match["pid"])):
            found.append(name)
    return sorted(found)


def pii_note(with_pii: bool) -> str:
    return "" if with_pii else " (customer_name left out; set ces_serve_customer_name to serve it)"
