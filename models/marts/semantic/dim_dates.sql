{#- One row per calendar day from 2020-01-01 through 2035-12-31: MetricFlow's time spine (it
    joins metrics to it for time grains and cumulative windows), published with the marts so
    `mf query` runs against the serving data too. -#}
with

days as (

    {{ dbt.date_spine(
        'day',
        "cast('2020-01-01' as date)",
        "cast('2036-01-01' as date)"
    ) }}

),

final as (

    select cast(date_day as date) as date_day

    from days

)

select * from final
