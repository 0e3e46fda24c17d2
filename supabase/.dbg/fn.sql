create or replace function realtime.visible_changes_dbg(p_groups jsonb)
returns table (identity integer, change integer)
language plpgsql
set search_path = ''
as $$
declare
  g jsonb;
  rel regclass;
  predicate text;
  original_role text := current_setting('role');
  original_claims text := coalesce(current_setting('request.jwt.claims', true), '');
  pk_cols text[];
  pk_match text;
  live jsonb;
  images jsonb;
begin
  for g in select * from jsonb_array_elements(p_groups) loop
    rel := format('%I.%I', g->>'schema', g->>'table')::regclass;
    predicate := realtime.read_predicate(rel, g->>'role');
    continue when predicate = 'false';
    select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum))
      into pk_cols
    from pg_catalog.pg_index i
    join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
    where i.indrelid = rel and i.indisprimary;
    select coalesce(jsonb_agg(x) filter (where pk_cols is not null and x->>'type' <> 'DELETE'), '[]'::jsonb),
           coalesce(jsonb_agg(x) filter (where pk_cols is null or x->>'type' = 'DELETE'), '[]'::jsonb)
      into live, images
    from jsonb_array_elements(g->'items') x;
    begin
      perform set_config('role', g->>'role', true);
      perform set_config('request.jwt.claims', coalesce(g->'claims', '{}'::jsonb)::text, true);
      if jsonb_array_length(live) > 0 then
        select string_agg(format('t.%1$I = k.%1$I', c), ' and ') into pk_match from unnest(pk_cols) c;
        return query execute format(
          'select $3, (($2)->((k.ordinality - 1)::integer)->>''change'')::integer
             from jsonb_populate_recordset(null::%I.%I, $1) with ordinality k
            where exists (select 1 from %I.%I t where %s)',
          g->>'schema', g->>'table', g->>'schema', g->>'table', pk_match)
          using (select jsonb_agg(x->'record') from jsonb_array_elements(live) x), live,
                (g->>'identity')::integer;
      end if;
      if jsonb_array_length(images) > 0 then
        return query execute format(
          'select $3, (($2)->((%1$I.ordinality - 1)::integer)->>''change'')::integer
             from jsonb_populate_recordset(null::%2$I.%1$I, $1) with ordinality %1$I
            where %3$s',
          g->>'table', g->>'schema', predicate)
          using (select jsonb_agg(coalesce(x->'record', x->'old_record')) from jsonb_array_elements(images) x),
                images, (g->>'identity')::integer;
      end if;
    end;
  end loop;
  perform set_config('role', original_role, true);
  perform set_config('request.jwt.claims', original_claims, true);
end
$$;
