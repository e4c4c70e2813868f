{#- Who each outcome's backtest scores, and the answer: per outcome, backtest date D, weights
    version and customer. A date is used for an outcome only when its whole horizon has been
    observed: D + horizon_days on or before the last day an outcome or event was loaded. The
    population: customers in the CRM at D, in an eligible stage at D; for a once-only outcome,
    without those it already happened to by D. The label: the outcome occurs in
    (D, D + horizon_days], by occurred_at. oriented_score is the score signed so that higher
    should mean more of a good outcome and less of a bad one. -#}
with

scores as (

    -- the backtest points, scored by the same chain as the marts' as-of point
    select
        *,
        scoring_date as backtest_date

    from {{ ref('int_point_scores') }}
    where point_kind = 'backtest'

),

dates as (

    select * from {{ ref('int_backtest_dates') }}

),

definitions as (

    select * from {{ ref('stg_seeds__outcomes') }}

),

outcome_rows as (

    select * from {{ ref('stg_crm__customer_outcomes') }}

),

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

outcomes as (

    -- the rows the backtest can use: a known customer id, a time and a defined name
    select
        outcome_rows.customer_key,
        outcome_rows.outcome,
        outcome_rows.occurred_at

    from outcome_rows
    inner join definitions
        on outcome_rows.outcome = definitions.outcome
    where
        outcome_rows.customer_key is not null
        and outcome_rows.occurred_at is not null

),

observed as (

    select max(observed_date) as observed_through

    from (
        select cast(max(loaded_at) as date) as observed_date
        from outcome_rows
        union all
        select max(loaded_date) as observed_date
        from daily_events
    ) as loaded

),

labeled_dates as (

    select
        dates.backtest_date,
        definitions.outcome,
        definitions.polarity,
        definitions.horizon_days,
        definitions.eligible_stages,
        definitions.recurrence,
        definitions.flag,
        cast({{ dbt.dateadd('day', 1, 'dates.backtest_date') }} as {{ dbt.type_timestamp() }}) as label_start,
        cast(
            {{ dbt.dateadd('day', 'definitions.horizon_days + 1', 'dates.backtest_date') }}
            as {{ dbt.type_timestamp() }}
        ) as label_end

    from dates
    cross join definitions
    cross join observed
    where
        cast({{ dbt.dateadd('day', 'definitions.horizon_days', 'dates.backtest_date') }} as date)
        <= observed.observed_through

),

first_occurrences as (

    select
        outcome,
        customer_key,
        min(occurred_at) as first_occurred_at

    from outcomes
    group by outcome, customer_key

),

positives as (

    select distinct
        labeled_dates.backtest_date,
        labeled_dates.outcome,
        outcomes.customer_key

    from outcomes
    inner join labeled_dates
        on
            outcomes.outcome = labeled_dates.outcome
            and outcomes.occurred_at >= labeled_dates.label_start
            and outcomes.occurred_at < labeled_dates.label_end

),

population as (

    select
        labeled_dates.outcome,
        labeled_dates.polarity,
        labeled_dates.horizon_days,
        labeled_dates.flag,
        scores.backtest_date,
        scores.weights_version,
        scores.is_version_in_force,
        scores.customer_key,
        scores.segment,
        scores.engagement_score,
        case
            when labeled_dates.polarity = 'bad' then -scores.engagement_score
            else scores.engagement_score
        end as oriented_score,
        case labeled_dates.flag
            when 'is_trial_conversion_candidate' then scores.is_trial_conversion_candidate
            when 'is_churn_risk' then scores.is_churn_risk
            when 'is_upsell_candidate' then scores.is_upsell_candidate
            when 'needs_training' then scores.needs_training
        end as is_flagged,
        positives.customer_key is not null as is_positive

    from scores
    inner join labeled_dates
        on scores.backtest_date = labeled_dates.backtest_date
    left join first_occurrences
        on
            labeled_dates.outcome = first_occurrences.outcome
            and scores.customer_key = first_occurrences.customer_key
    left join positives
        on
            labeled_dates.backtest_date = positives.backtest_date
            and labeled_dates.outcome = positives.outcome
            and scores.customer_key = positives.customer_key
    where
        (
            labeled_dates.eligible_stages is null
            or {{ dbt.concat(["' '", "labeled_dates.eligible_stages", "' '"]) }}
            like {{ dbt.concat(["'% '", "scores.lifecycle_stage", "' %'"]) }}
        )
        and not (
            labeled_dates.recurrence = 'once'
            and coalesce(first_occurrences.first_occurred_at < labeled_dates.label_start, false)
        )

)

select * from population
