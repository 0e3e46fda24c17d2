-- Local realtime service state for the gateway (supabase/src/gateway/realtime). Hosted Supabase
-- streams changes from the WAL (logical decoding); PGlite has no logical decoding, so locally a
-- row trigger on every table of the `supabase_realtime` publication records each change in a log
-- and NOTIFYs the gateway. Applied only locally, after bootstrap.sql; idempotent.

create schema if not exists realtime;
revoke all on schema realtime from public;

-- One row per changed row. The NOTIFY carries only the transaction id (payloads are limited to
-- 8000 bytes); the gateway reads the rows back by txid. Private: no API role has any grant.
create table if not exists realtime.change_log (
  id bigint generated always as identity primary key,
  txid bigint not null default txid_current(),
  schema_name text not null,
  table_name text not null,
  change_type text not null check (change_type in ('INSERT', 'UPDATE', 'DELETE')),
  record jsonb,
  old_record jsonb,
  -- clock_timestamp() when the row changed: a lower bound of the commit time (now() would be
  -- the transaction START, possibly long before). Sent to clients as commit_timestamp.
  changed_at timestamptz not null default clock_timestamp(),
  -- Set once a gateway fanned the transaction out; a gateway that starts (or whose LISTEN
  -- connection comes back) delivers what is still undelivered instead of losing it.
  delivered boolean not null default false
);
create index if not exists change_log_txid_idx on realtime.change_log (txid);
create index if not exists change_log_undelivered_idx on realtime.change_log (id) where not delivered;
create index if not exists change_log_changed_at_idx on realtime.change_log (changed_at);

-- Tables that have postgres_changes subscribers, until expires_at (the gateway renews the lease of
-- every table its channels listen to every 30 s, for 120 s, so a gateway restart inside that window
-- loses nothing). The capture trigger records changes of these tables only: a change nobody
-- listens to then costs one index probe instead of a jsonb copy, a log insert, a NOTIFY and the
-- gateway's read of it. Measured (bench:gateway, 32 workers, 2 cores, nobody subscribed):
-- claim+complete cycles went from ~280/s to ~325/s on PostgreSQL and from ~93/s to ~200/s on PGlite.
create table if not exists realtime.watched_tables (
  relid oid primary key,
  expires_at timestamptz not null
);

-- Renews the watch of the given tables (`[{"schema": "public", "table": "tasks" | "*"}]`).
create or replace function realtime.watch_tables(p_tables jsonb, p_seconds integer) returns void
language sql
set search_path = ''
as $$
  insert into realtime.watched_tables as w (relid, expires_at)
  select distinct c.oid, now() + make_interval(secs => p_seconds)
  from jsonb_to_recordset(p_tables) as b(schema text, "table" text)
  join pg_catalog.pg_namespace n on n.nspname = b.schema
  join pg_catalog.pg_class c on c.relnamespace = n.oid and (b."table" = '*' or c.relname = b."table")
  where c.relkind in ('r', 'p')
  on conflict (relid) do update set expires_at = greatest(w.expires_at, excluded.expires_at)
$$;
revoke all on function realtime.watch_tables(jsonb, integer) from public;

-- Row trigger: log the change and wake the gateway. Identical NOTIFY payloads in one transaction
-- are merged by Postgres, so this is one notification per committed transaction, delivered in
-- commit order, and none for rolled-back work. security definer: the writer (an API role inside
-- an RPC, or service_role) has no grant on realtime.change_log.
create or replace function realtime.capture_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from realtime.watched_tables w where w.relid = tg_relid and w.expires_at > now()) then
    return null;
  end if;
  insert into realtime.change_log (schema_name, table_name, change_type, record, old_record)
  values (
    tg_table_schema,
    tg_table_name,
    tg_op,
    case when tg_op = 'DELETE' then null else to_jsonb(new) end,
    case when tg_op = 'INSERT' then null else to_jsonb(old) end
  );
  perform pg_notify('realtime:changes', txid_current()::text);
  return null;
end
$$;
revoke all on function realtime.capture_change() from public;

-- Puts the capture trigger on every table of the supabase_realtime publication that lacks it and
-- removes it from tables that left the publication. Returns how many triggers it changed.
create or replace function realtime.sync_change_triggers() returns integer
language plpgsql
set search_path = ''
as $$
declare
  t record;
  changed integer := 0;
begin
  -- Several joins (or gateways) may sync at once: one at a time, each seeing the others' work.
  perform pg_advisory_xact_lock(2026112202);
  for t in
    select c.oid, n.nspname, c.relname
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.oid in (select prrelid from pg_catalog.pg_publication_rel pr
                    join pg_catalog.pg_publication p on p.oid = pr.prpubid
                    where p.pubname = 'supabase_realtime')
      and c.relkind in ('r', 'p')
      and not exists (select 1 from pg_catalog.pg_trigger tg
                      where tg.tgrelid = c.oid and tg.tgname = 'realtime_capture_change')
  loop
    begin
      execute format(
        'create trigger realtime_capture_change after insert or update or delete on %I.%I '
        'for each row execute function realtime.capture_change()', t.nspname, t.relname);
      changed := changed + 1;
    exception when duplicate_object then
      null; -- created meanwhile by a transaction that committed before our lock
    end;
  end loop;
  for t in
    select c.oid, n.nspname, c.relname
    from pg_catalog.pg_trigger tg
    join pg_catalog.pg_class c on c.oid = tg.tgrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where tg.tgname = 'realtime_capture_change'
      and c.oid not in (select prrelid from pg_catalog.pg_publication_rel pr
                        join pg_catalog.pg_publication p on p.oid = pr.prpubid
                        where p.pubname = 'supabase_realtime')
  loop
    execute format('drop trigger realtime_capture_change on %I.%I', t.nspname, t.relname);
    changed := changed + 1;
  end loop;
  return changed;
end
$$;
revoke all on function realtime.sync_change_triggers() from public;

-- The condition under which `p_role` may SELECT a row of `p_rel`, as SQL text over the table's own
-- column names: 'false' without the SELECT grant, 'true' when RLS does not apply (RLS off, or a
-- BYPASSRLS role such as service_role), else the role's permissive SELECT policies OR'ed, AND'ed
-- with its restrictive ones. Policy expressions come from the catalog (pg_get_expr). Evaluated
-- against an old row image (DELETE: the row is gone) it answers what the row would have answered.
create or replace function realtime.read_predicate(p_rel regclass, p_role text)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  permissive text;
  restrictive text;
begin
  if not has_table_privilege(p_role, p_rel, 'SELECT') then
    return 'false';
  end if;
  if (select rolbypassrls from pg_catalog.pg_roles where rolname = p_role)
     or not (select relrowsecurity from pg_catalog.pg_class where oid = p_rel) then
    return 'true';
  end if;
  select string_agg('(' || pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) || ')', ' or ')
           filter (where pol.polpermissive),
         string_agg('(' || pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) || ')', ' and ')
           filter (where not pol.polpermissive)
    into permissive, restrictive
  from pg_catalog.pg_policy pol
  where pol.polrelid = p_rel
    and pol.polcmd in ('r', '*')
    and pol.polqual is not null
    and (0::oid = any(pol.polroles)
         or exists (select 1 from pg_catalog.pg_roles r
                    where r.oid = any(pol.polroles) and pg_catalog.pg_has_role(p_role, r.oid, 'member')));
  if permissive is null then
    return 'false'; -- RLS on and no permissive policy for the role: nothing is visible
  end if;
  return format('(%s) and (%s)', permissive, coalesce(restrictive, 'true'));
end
$$;
revoke all on function realtime.read_predicate(regclass, text) from public;

-- ONE round trip decides, for a batch of changes, which subscriber identity may see which change
-- (as Supabase's realtime.apply_rls does). p_groups: [{identity, role, claims, schema, table,
-- items: [{change, type, record, old_record}]}]. For each group it switches to the identity's role
-- and JWT claims (so auth.uid() and the policies' helper functions answer as for that user) and
-- returns (identity, change) for every visible item: the role's SELECT grant and policies
-- (realtime.read_predicate) evaluated against the change's own row image — the new row of an
-- INSERT/UPDATE, the old row of a DELETE.
-- A group whose check fails (e.g. a policy raising, a table dropped since) is skipped with a
-- WARNING, not the batch.
-- Not security definer (a definer function may not change role): the gateway's own connection,
-- which may SET ROLE to the API roles, runs it.
create or replace function realtime.visible_changes(p_groups jsonb)
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
begin
  for g in select * from jsonb_array_elements(p_groups) loop
    -- One group failing (a table dropped since, a policy that errors) skips that group only.
    begin
      perform set_config('role', original_role, true);
      rel := format('%I.%I', g->>'schema', g->>'table')::regclass;
      predicate := realtime.read_predicate(rel, g->>'role');
      continue when predicate = 'false';
      perform set_config('role', g->>'role', true);
      perform set_config('request.jwt.claims', coalesce(g->'claims', '{}'::jsonb)::text, true);
      -- Each change is judged on its own row image: the row as that INSERT/UPDATE left it, or as
      -- it was before a DELETE. Not on the row as it is by the time the gateway looks: a row made
      -- visible later must not reveal what an earlier, hidden version held.
      return query execute format(
        'select $3, (($2)->((%1$I.ordinality - 1)::integer)->>''change'')::integer
           from jsonb_populate_recordset(null::%2$I.%1$I, $1) with ordinality %1$I
          where %3$s',
        g->>'table', g->>'schema', predicate)
        using (select jsonb_agg(coalesce(nullif(x->'record', 'null'::jsonb), x->'old_record')) from jsonb_array_elements(g->'items') x),
              g->'items', (g->>'identity')::integer;
    exception when others then
      raise warning 'realtime: visibility check for %.% as % failed: % (%); its changes are not sent',
        g->>'schema', g->>'table', g->>'role', sqlerrm, sqlstate;
    end;
  end loop;
  perform set_config('role', original_role, true);
  perform set_config('request.jwt.claims', original_claims, true);
end
$$;
revoke all on function realtime.visible_changes(jsonb) from public;

-- Keeps the log small: delivered rows after 2 minutes, anything after 15 (no gateway ran).
create or replace function realtime.prune_change_log() returns integer
language sql
set search_path = ''
as $$
  with gone as (
    delete from realtime.change_log
    where (delivered and changed_at < clock_timestamp() - interval '2 minutes')
       or changed_at < clock_timestamp() - interval '15 minutes'
    returning 1
  )
  select count(*)::integer from gone
$$;
revoke all on function realtime.prune_change_log() from public;

-- Channels that were joined when a gateway stopped: a channel that joins again (same topic,
-- subject and postgres_changes bindings) soon after the next start RESUMES: it is sent the
-- changes it missed while no gateway ran and while it was reconnecting.
create table if not exists realtime.resume_point (
  topic text not null,
  subject text not null,
  bindings text not null,
  closed_at timestamptz not null default clock_timestamp()
);
create index if not exists resume_point_lookup_idx on realtime.resume_point (topic, subject, bindings);
