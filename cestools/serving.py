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


def pii_note(with_pii: bool) -> str:
    return "" if with_pii else " (customer_name left out; set ces_serve_customer_name to serve it)"
