"""The defect catalogue, and the injector behind `python -m cestools.demo_data --defects`.

Every kind of bad input the warehouse knows about has one documented outcome
(docs/data-quality.md). `inject` adds a known number of rows of each generator-made defect to a demo
warehouse and records them in demo.injected_defects, so tests can check each outcome against
what was planted. Injection is deterministic: the rows depend only on the seed and the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

ROWS_PER_DEFECT = 25


@dataclass(frozen=True)
class Defect:
    code: str
    what: str
    outcome: str  # scored | deduplicated | repaired | quarantined | held back | failed build
    reason: str | None = None  # the reason code the outcome is recorded with
    injected: bool = True  # made by --defects (else: tested with hand-made data)


CATALOGUE: tuple[Defect, ...] = (
    Defect("blank_customer_id", "product event with a null or blank customer_id",
           "quarantined", "missing_customer_id"),
    Defect("missing_event_id", "product event with a null or blank event_id",
           "quarantined", "missing_event_id"),
    Defect("missing_occurred_at", "product event with a null occurred_at",
           "quarantined", "missing_occurred_at"),
    Defect("exact_redelivery", "the same event_id delivered again with the same content",
           "deduplicated", "exact_redelivery"),
    Defect("conflicting_redelivery", "the same event_id delivered again with other content",
           "deduplicated", "conflicting_redelivery"),
    Defect("id_formatting", "customer_id differing from the CRM id by whitespace or case",
           "repaired", None),
    Defect("unknown_customer", "event for a customer that raw.customers does not know",
           "held back", "unknown_customer"),
    Defect("unmapped_event", "event_name with no weight in the version in force",
           "scored", "unmapped_event_type"),
    Defect("occurred_after_loaded", "occurred_at later than loaded_at + ces_future_tolerance_hours",
           "quarantined", "occurred_after_loaded"),
    Defect("occurred_before_lower_bound", "occurred_at earlier than ces_min_occurred_date",
           "quarantined", "occurred_before_lower_bound"),
    Defect("late_arrival", "event loaded 11-35 days after it occurred", "scored", None),
    Defect("customer_history", "customer in raw.customers several times (CDC); null segment",
           "repaired", None),
    Defect("ticket_missing_created_at", "support ticket with a null created_at",
           "quarantined", "missing_occurred_at"),
    Defect("ticket_unknown_priority", "support ticket with a priority outside low/normal/high/urgent",
           "quarantined", "unknown_priority"),
    Defect("weights_duplicate_type", "weights seed: an event_type twice within a version",
           "failed build", None, injected=False),
    Defect("weights_bad_weight", "weights seed: a missing or non-numeric weight",
           "failed build", None, injected=False),
    Defect("weights_effective_from_disagrees", "weights seed: a version whose rows disagree on "
           "effective_from", "failed build", None, injected=False),
    Defect("weights_none_in_force", "weights seed: no version in force at the as-of date",
           "failed build", None, injected=False),
    Defect("weights_type_left_out", "weights seed: a version without an event type the version "
           "before it weighted", "failed build", None, injected=False),
    Defect("weights_type_unweighted_in_period", "weights seed: a version without a weight for an "
           "event type scored while it was in force", "scored", None, injected=False),
    Defect("no_support_tickets", "raw.support_tickets is empty", "scored", None, injected=False),
    Defect("empty_window", "an as-of date outside the scored events, or no scored event at all",
           "failed build", None, injected=False),
    Defect("missing_raw_table", "a raw contract table missing, or ces_raw_schema naming no schema",
           "failed build", None, injected=False),
    Defect("bad_setting", "a var outside what it allows (ces_window_days: 0, a date that is not "
           "a date, ...)", "failed build", None, injected=False),
)


def _sample(table: str, key: str, seed: int, salt: str, where: str = "true") -> str:
    """SQL for ROWS_PER_DEFECT rows of table chosen by a seeded hash, numbered i = 1, 2, ..."""
    return f"""
        select *, row_number() over (order by hash({key}, {seed}, '{salt}'), {key}, loaded_at) as i
        from {table}
        where {where}
        qualify i <= {ROWS_PER_DEFECT}
    """


def inject(con: duckdb.DuckDBPyConnection, seed: int, end_date: dt.date) -> dict[str, int]:
    """Add ROWS_PER_DEFECT rows of every injectable defect; return rows added per defect."""
    horizon = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(6, 0))
    latest_customers = """(select * from raw.customers
        qualify row_number() over (partition by customer_id order by loaded_at desc) = 1)"""
    # generator rows only (not rows injected a moment ago), from the last 20 days
    recent = f"event_id like 'ev_%' and occurred_at >= timestamp '{end_date - dt.timedelta(days=20)}'"
    not_api = recent + " and event_name <> 'Api request'"
    half = ROWS_PER_DEFECT // 2
    events = "insert into raw.product_events "
    statements = {
        # copies of real events under new ids, so only the defect differs
        "blank_customer_id": events + f"""
            select 'dfx_blank_customer_' || i,
                   case when i <= {half} then '   ' end,
                   user_id, event_name, occurred_at, loaded_at
            from ({_sample('raw.product_events', 'event_id', seed, 'blank', recent)})""",
        "missing_event_id": events + f"""
            select case when i <= {half} then ' ' end, customer_id, user_id,
                   event_name, occurred_at, loaded_at
            from ({_sample('raw.product_events', 'event_id', seed, 'noid', recent)})""",
        "missing_occurred_at": events + f"""
            select 'dfx_no_time_' || i, customer_id, user_id, event_name,
                   null, loaded_at
            from ({_sample('raw.product_events', 'event_id', seed, 'notime', recent)})""",
        # the same id again, later, with another event name
        "conflicting_redelivery": events + f"""
            select event_id, customer_id, user_id,
                   case when event_name = 'api_request' then 'report_created' else 'api_request' end,
                   occurred_at, least(loaded_at + interval 2 day, timestamp '{horizon}')
            from ({_sample('raw.product_events', 'event_id', seed, 'conflict', not_api)})""",
        "id_formatting": events + f"""
            select 'dfx_id_format_' || i,
                   case when i % 2 = 0 then '  ' || customer_id || ' '
                        else lower(customer_id) end,
                   user_id, event_name, occurred_at, loaded_at
            from ({_sample('raw.product_events', 'event_id', seed, 'idfmt', recent)})""",
        "unknown_customer": events + f"""
            select 'dfx_unknown_customer_' || i,
                   'X' || lpad(cast(i % 5 as varchar), 6, '0'),
                   user_id, event_name, occurred_at, loaded_at
            from ({_sample('raw.product_events', 'event_id', seed, 'unknown', recent)})""",
        "unmapped_event": events + f"""
            select 'dfx_unmapped_' || i, customer_id, user_id,
                   'Beta Feature Clicked', occurred_at, loaded_at
            from ({_sample('raw.product_events', 'event_id', seed, 'unmapped', recent)})""",
        "occurred_after_loaded": events + f"""
            select 'dfx_future_' || i, customer_id, user_id, event_name,
                   loaded_at + interval 3 day, loaded_at
            from ({_sample('raw.product_events', 'event_id', seed, 'future', recent)})""",
        "occurred_before_lower_bound": events + f"""
            select 'dfx_ancient_' || i, customer_id, user_id, event_name,
                   timestamp '1970-01-01 00:00:00' + to_seconds(i), loaded_at
            from ({_sample('raw.product_events', 'event_id', seed, 'ancient', recent)})""",
        # happened 11-35 days before the end, loaded on the last day
        "late_arrival": events + f"""
            select 'dfx_late_' || i, customer_id, user_id, event_name,
                   timestamp '{end_date}' - to_days(cast(10 + i as integer))
                       + interval 9 hour,
                   timestamp '{end_date}' + interval 20 hour
            from ({_sample('raw.product_events', 'event_id', seed, 'late', recent)})""",
        "ticket_missing_created_at": f"""
            insert into raw.support_tickets
            select 'dfx-ticket-no-time-' || i, customer_id, null, priority,
                   loaded_at
            from ({_sample('raw.support_tickets', 'ticket_id', seed, 'time', "ticket_id like 'T-%'")})""",
        "ticket_unknown_priority": f"""
            insert into raw.support_tickets
            select 'dfx-ticket-priority-' || i, customer_id, created_at,
                   case when i % 2 = 0 then 'P1' else '' end, loaded_at
            from ({_sample('raw.support_tickets', 'ticket_id', seed, 'priority', "ticket_id like 'T-%'")})""",
        # a newer CRM row per customer: a plan change, and for some a segment lost upstream
        "customer_history": f"""
            insert into raw.customers
            select customer_id, customer_name,
                   case when i <= {half} then null else segment end,
                   case plan when 'starter' then 'professional' else plan end,
                   lifecycle_stage, country, created_at, timestamp '{horizon}' - interval 1 hour
            -- a later export of the customer's latest row (the CRM history has several per customer)
            from ({_sample(latest_customers, 'customer_id', seed, 'crm')})""",
    }
    added: dict[str, int] = {}
    for code, sql in statements.items():
        added[code] = con.execute(sql).fetchone()[0]
    added["exact_redelivery"] = con.execute("""
        select count(*) - count(distinct (event_id, customer_id, event_name, occurred_at))
        from raw.product_events where event_id like 'ev_%'
    """).fetchone()[0]
    con.execute("create or replace table demo.injected_defects (defect varchar, outcome varchar, "
                "reason varchar, rows_added bigint)")
    by_code = {d.code: d for d in CATALOGUE}
    con.executemany("insert into demo.injected_defects values (?, ?, ?, ?)",
                    [(c, by_code[c].outcome, by_code[c].reason, k) for c, k in added.items()])
    return added
