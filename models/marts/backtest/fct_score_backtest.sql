{#- How well each weights version's score ranks each outcome: one row per backtest date ×
    weights version × outcome × segment (and `all`). AUC is rank-based (Mann-Whitney) with
    average ranks for ties, on the oriented score: 0.5 is chance, 1 a perfect ranking in the
    intended direction (high score, more of a good outcome, less of a bad one). Top-decile
    lift is the positive rate among the ceil(10%) highest-scored customers over the base
    rate; a tie at the decile's edge counts in proportion (what a random tie-break would give
    on average), so the result does not depend on row order. -#}
with

population as (

    select * from {{ ref('int_backtest_population') }}

),

grouped as (

    select
        outcome,
        polarity,
        horizon_days,
        backtest_date,
        weights_version,
        is_version_in_force,
        segment,
        oriented_score,
        is_positive

    from population

    union all

    select
        outcome,
        polarity,
        horizon_days,
        backtest_date,
        weights_version,
        is_version_in_force,
        'all' as segment,
        oriented_score,
        is_positive

    from population

),

ranked as (

    select
        *,
        {{ ces_average_rank(
            'outcome, backtest_date, weights_version, segment', 'oriented_score'
        ) }} as average_rank

    from grouped

),

summed as (

    select
        outcome,
        polarity,
        horizon_days,
        backtest_date,
        weights_version,
        is_version_in_force,
        segment,
        count(*) as population,
        sum(case when is_positive then 1 else 0 end) as positives,
        sum(case when is_positive then average_rank else 0 end) as positive_rank_sum

    from ranked
    group by outcome, polarity, horizon_days, backtest_date, weights_version, is_version_in_force, segment

),

levels as (

    -- one row per distinct score, highest first, with how many customers score higher
    select
        outcome,
        backtest_date,
        weights_version,
        segment,
        oriented_score,
        count(*) as customers,
        sum(case when is_positive then 1 else 0 end) as positives

    from grouped
    group by outcome, backtest_date, weights_version, segment, oriented_score

),

leveled as (

    select
        *,
        coalesce(
            sum(customers) over (
                partition by outcome, backtest_date, weights_version, segment
                order by oriented_score desc
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as customers_above,
        -- ceil(population / 10)
        cast(
            ceil(
                cast(
                    sum(customers) over (partition by outcome, backtest_date, weights_version, segment)
                    as {{ ces_data_type('double') }}
                ) / 10
            ) as bigint
        ) as top_decile_size

    from levels

),

top_decile as (

    select
        outcome,
        backtest_date,
        weights_version,
        segment,
        max(top_decile_size) as top_decile_size,
        sum(
            case
                when customers_above + customers <= top_decile_size
                    then cast(positives as {{ ces_data_type('double') }})
                when customers_above < top_decile_size
                    then
                        cast(positives as {{ ces_data_type('double') }})
                        * (top_decile_size - customers_above) / customers
                else 0
            end
        ) as top_decile_positives

    from leveled
    group by outcome, backtest_date, weights_version, segment

),

final as (

    select
        summed.backtest_date,
        summed.weights_version,
        summed.is_version_in_force,
        summed.outcome,
        summed.polarity,
        cast(summed.horizon_days as integer) as horizon_days,
        summed.segment,
        cast(summed.population as bigint) as population,
        cast(summed.positives as bigint) as positives,
        {{ ces_decimal(
            'cast(summed.positives as ' ~ ces_data_type('double') ~ ') / summed.population', 9, 6
        ) }} as base_rate,
        -- the rounding casts wrap the case, not its branch: PostgreSQL drops a branch's
        -- scale from a case with a null else, and the contract's type is then a bare numeric
        {{ ces_decimal(
            ces_rank_auc('summed.positive_rank_sum', 'summed.positives', 'summed.population'), 9, 6
        ) }} as auc,
        {{ ces_decimal(
            'case when summed.positives > 0 then'
            ~ ' (top_decile.top_decile_positives / top_decile.top_decile_size) / ('
            ~ 'cast(summed.positives as ' ~ ces_data_type('double') ~ ') / summed.population) end', 12, 4
        ) }} as top_decile_lift

    from summed
    inner join top_decile
        on
            summed.outcome = top_decile.outcome
            and summed.backtest_date = top_decile.backtest_date
            and summed.weights_version = top_decile.weights_version
            and summed.segment = top_decile.segment

)

select * from final
