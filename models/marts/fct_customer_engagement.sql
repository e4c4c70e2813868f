with

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

scores as (

    select * from {{ ref('int_customer_scores_by_version') }}

),

event_types as (

    select * from {{ ref('int_customer_event_types_windowed') }}

),

activity as (

    select * from {{ ref('int_customer_activity') }}

),

previous as (

    select
        customer_key,
        sum(previous_contribution) as previous_engagement_score

    from event_types
    group by customer_key

),

measured as (

    select
        customers.customer_id,
        customers.customer_name,
        customers.segment,
        customers.plan,
        customers.lifecycle_stage,
        scores.engagement_score,
        scores.event_count,
        coalesce(previous.previous_engagement_score, 0) as previous_engagement_score,
        scores.segment_percentile,
        scores.engagement_tier,
        {{ dbt.datediff('activity.last_event_date', 'scoring_window.as_of_date', 'day') }}
            as days_since_last_event,
        coalesce(activity.active_days, 0) as active_days,
        coalesce(activity.distinct_event_types, 0) as distinct_event_types,
        scoring_window.weights_version,
        scoring_window.window_start,
        scoring_window.window_end

    from customers
    cross join scoring_window
    inner join scores
        on
            customers.customer_key = scores.customer_key
            and scoring_window.weights_version = scores.weights_version
    left join previous
        on customers.customer_key = previous.customer_key
    left join activity
        on customers.customer_key = activity.customer_key

),

trended as (

    select
        *,
        engagement_score - previous_engagement_score as engagement_change,
        case
            when previous_engagement_score <> 0
                then
                    100.0 * (engagement_score - previous_engagement_score)
                    / abs(previous_engagement_score)
        end as engagement_change_pct

    from measured

),

flagged as (

    select
        *,
        {{ ces_flags() }}

    from trended

),

explained as (

    select
        *,
        concat_ws(
            '; ',
            case
                when is_trial_conversion_candidate
                    then {{ dbt.concat([
                        "'trial active on '", "cast(active_days as " ~ dbt.type_string() ~ ")",
                        "' days using '", "cast(distinct_event_types as " ~ dbt.type_string() ~ ")",
                        "' features'"
                    ]) }}
            end,
            case
                when is_churn_risk and engagement_change_pct <= -{{ var('ces_churn_drop_pct') }}
                    then {{ dbt.concat([
                        "'score fell '",
                        "cast(cast(round(-engagement_change_pct) as integer) as " ~ dbt.type_string() ~ ")",
                        "'% vs previous " ~ var('ces_window_days') ~ " days'"
                    ]) }}
            end,
            case
                when
                    is_churn_risk
                    and coalesce(days_since_last_event, 9999) >= {{ var('ces_churn_inactive_days') }}
                    then coalesce(
                        {{ dbt.concat([
                            "'no activity for '",
                            "cast(days_since_last_event as " ~ dbt.type_string() ~ ")",
                            "' days'"
                        ]) }},
                        'no scored activity ever'
                    )
            end,
            case
                when is_upsell_candidate
                    then {{ dbt.concat([
                        "'on the '", "plan",
                        "' plan but in the top '",
                        "cast(cast(100 - floor(segment_percentile) as integer) as " ~ dbt.type_string() ~ ")",
                        "'% of its segment'"
                    ]) }}
            end,
            case
                when needs_training
                    then {{ dbt.concat([
                        "'active on '", "cast(active_days as " ~ dbt.type_string() ~ ")",
                        "' days but uses only '",
                        "cast(distinct_event_types as " ~ dbt.type_string() ~ ")", "' feature(s)'"
                    ]) }}
            end
        ) as flag_reasons

    from flagged

),

final as (

    select
        customer_id,
        customer_name,
        segment,
        plan,
        lifecycle_stage,
        cast(engagement_score as decimal(18, 4)) as engagement_score,
        cast(event_count as bigint) as event_count,
        weights_version,
        window_start,
        window_end,
        cast(previous_engagement_score as decimal(18, 4)) as previous_engagement_score,
        cast(engagement_change as decimal(18, 4)) as engagement_change,
        {{ ces_decimal('engagement_change_pct', 18, 2) }} as engagement_change_pct,
        cast(days_since_last_event as integer) as days_since_last_event,
        cast(active_days as integer) as active_days,
        cast(distinct_event_types as integer) as distinct_event_types,
        {{ ces_decimal('segment_percentile', 6, 2) }} as segment_percentile,
        engagement_tier,
        is_trial_conversion_candidate,
        is_churn_risk,
        is_upsell_candidate,
        needs_training,
        nullif(flag_reasons, '') as flag_reasons

    from explained

)

select * from final
