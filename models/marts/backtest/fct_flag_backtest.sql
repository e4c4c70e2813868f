{#- How each flag of fct_customer_engagement would have done against the outcome it predicts
    (seeds/ces_outcomes.csv, column flag: churn risk -> churned, trial candidate -> converted,
    upsell -> upgraded): one row per backtest date × weights version × flag. precision = the
    share of flagged customers with the outcome in the horizon; recall = the share of those
    with the outcome that were flagged; lift = precision over the base rate. The flags are
    the mart's, by the definition the vars choose (int_point_flags: the rule of macro
    ces_flags, or the outcome's probability), on what was known at the end of each date. -#}
{%- set double = ces_data_type('double') %}
with

population as (

    select * from {{ ref('int_backtest_population') }}

),

counted as (

    select
        backtest_date,
        weights_version,
        is_version_in_force,
        flag,
        outcome,
        count(*) as population,
        sum(case when is_flagged then 1 else 0 end) as flagged,
        sum(case when is_positive then 1 else 0 end) as positives,
        sum(case when is_flagged and is_positive then 1 else 0 end) as true_positives

    from population
    where flag is not null
    group by backtest_date, weights_version, is_version_in_force, flag, outcome

),

final as (

    select
        backtest_date,
        weights_version,
        is_version_in_force,
        flag,
        outcome,
        cast(population as bigint) as population,
        cast(flagged as bigint) as flagged,
        cast(positives as bigint) as positives,
        cast(true_positives as bigint) as true_positives,
        {{ ces_decimal('cast(positives as ' ~ double ~ ') / population', 9, 6) }} as base_rate,
        case
            when flagged > 0
                then {{ ces_decimal('cast(true_positives as ' ~ double ~ ') / flagged', 9, 6) }}
        end as flag_precision,
        case
            when positives > 0
                then {{ ces_decimal('cast(true_positives as ' ~ double ~ ') / positives', 9, 6) }}
        end as flag_recall,
        case
            when flagged > 0 and positives > 0
                then {{ ces_decimal(
                    '(cast(true_positives as ' ~ double ~ ') / flagged) / ('
                    ~ 'cast(positives as ' ~ double ~ ') / population)', 12, 4
                ) }}
        end as lift

    from counted

)

select * from final
