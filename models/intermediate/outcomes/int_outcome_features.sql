{#- What a calibration reads: per scoring point, outcome and customer of the outcome's
    population, scored with the weights version in force at the point, one column
    feature_<name> per feature of macro ces_outcome_features, as a double. `make calibrate`
    fits on the backtest points; int_outcome_probabilities applies the seed at every point. -#}
with

population as (

    select * from {{ ref('int_outcome_population') }}
    where is_version_in_force

),

featured as (

    select
        point_id,
        point_kind,
        scoring_date,
        outcome,
        horizon_days,
        customer_key,
        customer_id,
        segment,
        {{ ces_outcome_feature_columns() }}

    from population

)

select * from featured
