{#- Who each outcome is predicted for: per scoring point (the as-of point and every backtest
    point), outcome, weights version and customer in the outcome's population at D: in the
    CRM at D, in an eligible stage at D and, for a once-only outcome, not one it already
    happened to by the end of D. With the score and what the features of a
    calibration read (ces_outcome_features). int_backtest_population adds the answer on the
    dates whose horizon has been observed; int_outcome_features feeds the probabilities. -#}
with

scores as (

    select * from {{ ref('int_point_scores') }}

),

definitions as (

    select * from {{ ref('stg_seeds__outcomes') }}

),

outcome_rows as (

    select * from {{ ref('stg_crm__customer_outcomes') }}

),

first_occurrences as (

    -- the rows an outcome can be known by: a known customer id, a time and a defined name
    select
        outcome_rows.outcome,
        outcome_rows.customer_key,
        min(outcome_rows.occurred_at) as first_occurred_at

    from outcome_rows
    inner join definitions
        on outcome_rows.outcome = definitions.outcome
    where
        outcome_rows.customer_key is not null
        and outcome_rows.occurred_at is not null
    group by outcome_rows.outcome, outcome_rows.customer_key

),

population as (

    select
        scores.point_id,
        scores.point_kind,
        scores.scoring_date,
        definitions.outcome,
        definitions.polarity,
        definitions.horizon_days,
        definitions.flag,
        scores.weights_version,
        scores.is_version_in_force,
        scores.customer_key,
        scores.customer_id,
        scores.segment,
        scores.engagement_score,
        scores.previous_engagement_score,
        scores.engagement_change_pct,
        scores.segment_percentile,
        scores.days_since_last_event,
        scores.active_days,
        scores.distinct_event_types,
        case
            when definitions.polarity = 'bad' then -scores.engagement_score
            else scores.engagement_score
        end as oriented_score

    from scores
    cross join definitions
    left join first_occurrences
        on
            definitions.outcome = first_occurrences.outcome
            and scores.customer_key = first_occurrences.customer_key
    where
        (
            definitions.eligible_stages is null
            or {{ dbt.concat(["' '", "definitions.eligible_stages", "' '"]) }}
            like {{ dbt.concat(["'% '", "scores.lifecycle_stage", "' %'"]) }}
        )
        and not (
            definitions.recurrence = 'once'
            and coalesce(
                first_occurrences.first_occurred_at
                < cast({{ dbt.dateadd('day', 1, 'scores.scoring_date') }} as {{ dbt.type_timestamp() }}),
                false
            )
        )

)

select * from population
