{#- Fails with one row per column of `columns` that is null on some row: the column, how many
    rows, and what to do. One scan of the model counts the nulls of every column; the list of
    columns is then joined to that one row. dbt's not_null is one query (on Spark, one job) per
    column, and a union of one select per column scanned the model once per column too. -#}
{% test ces_not_null_columns(model, column_name, columns) %}

with

null_counts as (

    select
        {%- for column in columns %}
        count(case when {{ column }} is null then 1 end) as null_rows_{{ loop.index }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from {{ model }}

),

checked_columns as (

    select
        checked.null_column,
        case checked.null_column
            {%- for column in columns %}
            when '{{ column }}' then null_counts.null_rows_{{ loop.index }}
            {%- endfor %}
        end as null_rows,
        checked.how_to_fix

    from null_counts
    cross join (
        values
        {%- for column in columns %}
        ('{{ column }}', '{{ column }} must be set on every row of {{ model.identifier }}: fill it where the row comes from (the loader for raw tables, the seed CSV for seeds)')
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    ) as checked (null_column, how_to_fix)

)

select * from checked_columns
where null_rows > 0

{% endtest %}
