{#- Fails with each value that staging's normalisation would change, i.e. that would never
    match an event type (event types are compared in lower snake case). -#}
{% test ces_is_snake_case(model, column_name) %}

select
    {{ column_name }},
    {{ ces_snake_case(column_name) }} as normalised,
    'write {{ column_name }} in lower snake case, as in the normalised column' as how_to_fix

from {{ model }}
where {{ column_name }} <> {{ ces_snake_case(column_name) }}

{% endtest %}
