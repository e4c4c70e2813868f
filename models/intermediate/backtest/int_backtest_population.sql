{#- Who each outcome's backtest scores, and the answer: per outcome, backtest date D, weights
    version and customer of int_outcome_population at a backtest point. A date is used for an
    outcome only when its whole horizon has been observed: D + horizon_days on or before the
    last day an outcome or event was loaded. The label: the outcome occurs in
    (D, D + horizon_days], by occurred_at. oriented_score is the score signed so that higher
    should mean more of a good outcome and less of a bad one. is_flagged is the outcome's flag
    by its definition at D (int_point_flags: rule or probability). -#}
with

population as (

    select * from {{ ref('int_outcome_population') }}
    where point_kind = 'backtest'

),

outcome_rows as (

    select * from {{ ref('stg_crm__customer_outcomes') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

flags as (

    select * from {{ ref('int_point_flags') }}
    where point_kind = 'backtest'

),

observed as (

    select max(observed_date) as observed_through

    from (
        select cast(max(loaded_at) as date) as observed_date
        from outcome_rows
        union all
        select last_loaded_date as observed_date
        from as_of
    ) as loaded

),

labeled as (

    -- the outcome and date pairs whose whole horizon has been observed
    select distinct
        population.scoring_date as backtest_date,
        population.outcome,
        cast(
            {{ dbt.dateadd('day', 1, 'population.scoring_date') }} as {{ dbt.type_timestamp() }}
        ) as label_start,
        cast(
            {{ dbt.dateadd('day', 'population.horizon_days + 1', 'population.scoring_date') }}
            as {{ dbt.type_timestamp() }}
        ) as label_end

    from population
    cross join observed
    where
        cast({{ dbt.dateadd('day', 'population.horizon_days', 'population.scoring_date') }} as date)
        <= observed.observed_through

),

positives as (

    select distinct
        labeled.backtest_date,
        labeled.outcome,
        outcome_rows.customer_key

    from outcome_rows
    inner join labeled
        on
            outcome_rows.outcome = labeled.outcome
            and outcome_rows.occurred_at >= labeled.label_start
            and outcome_rows.occurred_at < labeled.label_end
    where outcome_rows.customer_key is not null

),

answered as (

    select
        population.outcome,
        population.polarity,
        population.horizon_days,
        population.flag,
        population.scoring_date as backtest_date,
        population.weights_version,
        population.is_version_in_force,
        population.customer_key,
        population.segment,
        population.engagement_score,
        population.oriented_score,
        case population.flag
            {%- for flag in ces_flag_threshold_vars() %}
                when '{{ flag }}' then flags.{{ flag }}
            {%- endfor %}
        end as is_flagged,
        positives.customer_key is not null as is_positive

    from population
    inner join labeled
        on
            population.scoring_date = labeled.backtest_date
            and population.outcome = labeled.outcome
    inner join flags
        on
            population.point_id = flags.point_id
            and population.weights_version = flags.weights_version
            and population.customer_key = flags.customer_key
    left join positives
        on
            population.scoring_date = positives.backtest_date
            and population.outcome = positives.outcome
            and population.customer_key = positives.customer_key

)

select * from answered
