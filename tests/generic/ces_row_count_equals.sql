{#- Fails when `model` does not have exactly as many rows as `compare_model` (optionally
    with a filter on each side). Used to check "every customer gets exactly one row". -#}
{% test ces_row_count_equals(model, compare_model, compare_where="1 = 1",
                              how_to_fix="the two row counts must be equal") %}

with

actual as (

    select count(*) as row_count from {{ model }}

),

expected as (

    select count(*) as row_count from {{ compare_model }} where {{ compare_where }}

)

select
    actual.row_count as actual_rows,
    expected.row_count as expected_rows,
    '{{ how_to_fix | replace("'", "''") }}' as how_to_fix

from actual
cross join expected
where actual.row_count <> expected.row_count

{% endtest %}
