-- Per source, the rows of fct_event_reconciliation add up to the row count of the raw table
-- itself: no raw row is lost or counted twice on its way through the event layer.
-- Failing after an incremental run (and not after --full-refresh) means rows landed with a
-- loaded_at older than the lookback checks: run `dbt build --full-refresh`, and raise
-- ces_lookback_days if your loader backfills that far.
with

raw_rows as (

    select
        'product' as event_source,
        count(*) as raw_rows

    from {{ source('product', 'product_events') }}

    union all

    select
        'support' as event_source,
        count(*) as raw_rows

    from {{ source('support', 'support_tickets') }}

),

reconciled as (

    select
        event_source,
        sum(event_count) as accounted_rows

    from {{ ref('fct_event_reconciliation') }}
    group by event_source

)

select
    raw_rows.event_source,
    raw_rows.raw_rows,
    coalesce(reconciled.accounted_rows, 0) as accounted_rows,
    'raw rows loaded with a loaded_at before the incremental lookback are only picked up by '
    || 'dbt build --full-refresh' as how_to_fix

from raw_rows
left join reconciled
    on raw_rows.event_source = reconciled.event_source
where raw_rows.raw_rows <> coalesce(reconciled.accounted_rows, 0)
