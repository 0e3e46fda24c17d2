-- Public numbers for the dashboard and the topology: aggregates and pseudonymous ids only —
-- never owners, names, specs or rewards. security definer because the tables behind them are
-- private under RLS; read-only, so granting them to anon writes nothing.

create function public.network_stats()
returns jsonb
language sql stable security definer set search_path = ''
as $$
  select jsonb_build_object(
    'generated_at', now(),
    'workers', (
      select jsonb_build_object(
        'registered', count(*),
        -- Online = seen within 3 heartbeats (15 s each).
        'online', count(*) filter (where w.last_seen_at > now() - interval '45 seconds'),
        'online_browser', count(*) filter (where w.kind = 'browser' and w.last_seen_at > now() - interval '45 seconds'),
        'online_cli', count(*) filter (where w.kind = 'cli' and w.last_seen_at > now() - interval '45 seconds'))
      from public.workers w),
    'tasks', (
      select jsonb_build_object(
        'queued', count(*) filter (where t.status = 'queued'),
        'leased', count(*) filter (where t.status = 'leased'),
        'completed', count(*) filter (where t.status = 'completed'),
        'failed', count(*) filter (where t.status = 'failed'))
      from public.tasks t),
    'jobs', (
      select jsonb_build_object(
        'active', count(*) filter (where j.status in ('funded', 'running', 'aggregating')),
        'running', count(*) filter (where j.status = 'running'),
        'completed', count(*) filter (where j.status = 'completed'),
        'total', count(*))
      from public.jobs j)
  )
$$;
comment on function public.network_stats() is 'Network-wide counts for dashboards; exposes no private field.';

create function public.network_topology()
returns jsonb
language sql stable security definer set search_path = ''
as $$
  select jsonb_build_object(
    'generated_at', now(),
    'workers', coalesce((
      select jsonb_agg(jsonb_build_object(
        'id', w.id, 'kind', w.kind, 'leases_held', w.leases_held,
        'tasks_completed', w.tasks_completed, 'reputation', round(w.reputation::numeric, 4)) order by w.id)
      from public.workers w where w.last_seen_at > now() - interval '45 seconds'), '[]'::jsonb),
    'jobs', coalesce((
      select jsonb_agg(jsonb_build_object(
        'id', j.id, 'kind', j.kind, 'status', j.status, 'current_round', j.current_round,
        'rounds', j.rounds, 'shards', j.shards) order by j.created_at)
      from public.jobs j where j.status in ('funded', 'running', 'aggregating')), '[]'::jsonb),
    'leases', coalesce((
      select jsonb_agg(jsonb_build_object('worker_id', l.leased_by, 'job_id', l.job_id, 'tasks', l.tasks))
      from (select t.leased_by, t.job_id, count(*) as tasks from public.tasks t
            where t.status = 'leased' group by t.leased_by, t.job_id) l), '[]'::jsonb)
  )
$$;
comment on function public.network_topology() is
  'Online workers, active jobs and current leases (pseudonymous ids and counts only) for the topology views.';

revoke all on function public.network_stats(), public.network_topology() from public;
grant execute on function public.network_stats(), public.network_topology() to anon, authenticated, service_role;
