{#- Fails with one row per column of `columns` that is null on some row: the column, how many
    rows, and what to do. One query for all the columns of a model, where dbt's not_null is
    one query (and, on Spark, one job) per column. -#}
{% test ces_not_null_columns(model, column_name, columns) %}

{%- for column in columns %}
select
    '{{ column }}' as null_column,
    count(*) as null_rows,
    '{{ column }} must be set on every row of {{ model.identifier }}: fill it where the row comes from (the loader for raw tables, the seed CSV for seeds)' as how_to_fix
from {{ model }}
where {{ column }} is null
having count(*) > 0
{% if not loop.last %}union all{% endif %}
{%- endfor %}

{% endtest %}
