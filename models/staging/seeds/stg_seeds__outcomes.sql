{#- The outcomes seed, as the backtest reads it: one row per outcome the backtest checks the
    score against. -#}
with

outcomes as (

    select * from {{ ref(var('ces_outcomes_seed')) }}

),

renamed as (

    select
        horizon_days,
        description,
        trim(outcome) as outcome,
        trim(polarity) as polarity,
        trim(eligible_stages) as eligible_stages,
        trim(recurrence) as recurrence,
        trim(flag) as flag

    from outcomes

)

select * from renamed
