{#- One row per backtest date D: every month end of the history (or the dates of var
    ces_backtest_dates) whose whole scoring window lies in the history of scored events and
    that is on or before the last day any event was loaded. int_scoring_points makes each a
    scoring point known through D. Empty when raw.customer_outcomes has no rows: without
    outcomes the backtest costs nothing. -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

outcomes as (

    select * from {{ ref('stg_crm__customer_outcomes') }}

),

months as (

    select * from {{ ref('int_months') }}

),

candidates as (

    {% if var('ces_backtest_dates') -%}
        {%- for backtest_date in var('ces_backtest_dates') %}
            select cast('{{ backtest_date }}' as date) as backtest_date
            {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    {%- else -%}
        select month_end as backtest_date
        from months
    {%- endif %}

),

outcome_rows as (

    select count(*) as outcome_count

    from outcomes

),

dated as (

    select distinct candidates.backtest_date

    from candidates
    cross join as_of
    cross join outcome_rows
    where
        outcome_rows.outcome_count > 0
        and candidates.backtest_date <= as_of.last_loaded_date
        and cast(
            {{ dbt.dateadd('day', 1 - var('ces_window_days') | int, 'candidates.backtest_date') }} as date
        ) >= as_of.first_scored_date

)

select * from dated
