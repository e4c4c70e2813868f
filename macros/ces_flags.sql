{#- The four flags of fct_customer_engagement, as select-list items over a row that has
    lifecycle_stage, plan, active_days, distinct_event_types, days_since_last_event,
    engagement_change_pct and segment_percentile. The backtest (int_backtest_scores) flags
    each past date with the same expressions, so it measures the rules the mart applies. -#}
{% macro ces_flags() -%}
(
            lifecycle_stage = 'trial'
            and active_days >= {{ var('ces_trial_min_active_days') }}
            and distinct_event_types >= {{ var('ces_trial_min_event_types') }}
        ) as is_trial_conversion_candidate,
        (
            lifecycle_stage = 'active'
            and (
                coalesce(engagement_change_pct <= -{{ var('ces_churn_drop_pct') }}, false)
                or coalesce(days_since_last_event, 9999) >= {{ var('ces_churn_inactive_days') }}
            )
        ) as is_churn_risk,
        (
            lifecycle_stage = 'active'
            and plan in ('{{ var("ces_upsell_plans") | join("', '") }}')
            and segment_percentile >= {{ var('ces_upsell_min_percentile') }}
        ) as is_upsell_candidate,
        (
            lifecycle_stage = 'active'
            and active_days >= {{ var('ces_training_min_active_days') }}
            and distinct_event_types <= {{ var('ces_training_max_event_types') }}
        ) as needs_training
{%- endmacro %}
