{#- The chance that each customer has each outcome within its horizon after the as-of date:
    one row per customer of the outcome's population (seeds/ces_outcomes.csv: eligible stage,
    not already happened) and outcome with a calibration version in force at the as-of date
    (seeds/ces_calibration.csv). Computed by int_outcome_probabilities, from the features of
    the score under the weights version in force, as the backtest computes it on past dates. -#}
with

probabilities as (

    select * from {{ ref('int_outcome_probabilities') }}
    where point_kind = 'as_of' and is_calibration_in_force

),

final as (

    select
        customer_id,
        segment,
        outcome,
        probability,
        calibration_version,
        calibration_effective_from,
        cast(horizon_days as integer) as horizon_days,
        scoring_date as as_of_date,
        {{ ces_outcome_feature_decimals() }}

    from probabilities

)

select * from final
