-- Who may read and write which Storage objects. Storage decides every request with the RLS
-- policies on storage.objects (hosted Supabase's storage-api does; so does our gateway).
--
-- Bucket `artifacts`, one folder per job:
--   jobs/<job_id>/rounds/<round>/global.obw       the weights a round starts from   coordinator
--   jobs/<job_id>/updates/<task_id>/<cid>.obw     a worker's update for one task    the lease holder
--   jobs/<job_id>/model/<format>/<file>           the trained model                 coordinator
-- The coordinator writes with the service_role key (BYPASSRLS). The job's owner and the workers
-- that work or worked on the job read anything under jobs/<job_id>/. Users never update or
-- delete there: an update is named by its content id, so uploading it again is a 409 that
-- means "already there".
--
-- Bucket `datasets`: each user's folder is theirs (<user_id>/…); a worker holding a lease on a
-- running job reads the job's CSV (spec.dataset {source: csv, bucket: datasets, path}) when it
-- lies in the job owner's folder — a job cannot point its workers at another user's data.

insert into storage.buckets (id, name, public)
values ('artifacts', 'artifacts', false), ('datasets', 'datasets', false)
on conflict (id) do nothing;

-- True when `p_name` is jobs/<job_id>/updates/<task_id>/<cid>.obw and one of the caller's
-- workers holds the unexpired lease on that task of that job. Parsed before any cast, so a
-- malformed name is a refusal, not an error.
create function internal.holds_update_lease(p_name text) returns boolean
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_parts text[] := string_to_array(p_name, '/');
begin
  if cardinality(v_parts) <> 5 or v_parts[1] <> 'jobs' or v_parts[3] <> 'updates'
     or v_parts[2] !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     or v_parts[4] !~ '^[1-9][0-9]{0,17}$'
     or v_parts[5] !~ '^b[a-z2-7]{50,100}\.obw$' then
    return false;
  end if;
  return exists (
    select 1
    from public.tasks t
    join public.workers w on w.id = t.leased_by
    where t.id = v_parts[4]::bigint and t.job_id = v_parts[2]::uuid
      and t.status = 'leased' and t.lease_expires_at > now()
      and w.owner_id = auth.uid()
  );
end
$$;

-- Object names (keys in `datasets`) of the CSV data sets of the running jobs the caller's
-- workers hold an unexpired lease on, when the file lies in the job owner's folder.
create function internal.my_leased_dataset_paths() returns text[]
language sql stable security definer set search_path = ''
as $$
  select coalesce(array_agg(distinct j.spec #>> '{dataset,path}'), '{}')
  from public.tasks t
  join public.workers w on w.id = t.leased_by
  join public.jobs j on j.id = t.job_id
  where w.owner_id = auth.uid()
    and t.status = 'leased' and t.lease_expires_at > now()
    and j.status = 'running'
    and j.spec #>> '{dataset,source}' = 'csv'
    and j.spec #>> '{dataset,bucket}' = 'datasets'
    and split_part(j.spec #>> '{dataset,path}', '/', 1) = j.owner_id::text
$$;

revoke all on function internal.holds_update_lease(text), internal.my_leased_dataset_paths() from public, anon;
grant execute on function internal.holds_update_lease(text), internal.my_leased_dataset_paths() to authenticated, service_role;

-- ------------------------------------------------------------------ artifacts

create policy "Job owners read all of their job's artifacts" on storage.objects
  for select to authenticated
  using (
    bucket_id = 'artifacts'
    and (storage.foldername(name))[1] = 'jobs'
    and (storage.foldername(name))[2] = any ((select internal.my_job_ids())::text[])
  );

-- Workers need only the global models they start from. Other workers' updates stay hidden: an
-- individual update (without DP) reveals far more about its shard than the average does.
create policy "The job's workers read its global models" on storage.objects
  for select to authenticated
  using (
    bucket_id = 'artifacts'
    and (storage.foldername(name))[1] = 'jobs'
    and (storage.foldername(name))[3] = 'rounds'
    and (storage.foldername(name))[2] = any ((select internal.my_worked_job_ids())::text[])
  );

create policy "Workers upload the update of the task they hold" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'artifacts' and internal.holds_update_lease(name));

-- ------------------------------------------------------------------ datasets

create policy "Users upload datasets into their own folder" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'datasets' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "Users read the datasets in their own folder" on storage.objects
  for select to authenticated
  using (bucket_id = 'datasets' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "Users update the datasets in their own folder" on storage.objects
  for update to authenticated
  using (bucket_id = 'datasets' and (storage.foldername(name))[1] = (select auth.uid())::text)
  with check (bucket_id = 'datasets' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "Users delete the datasets in their own folder" on storage.objects
  for delete to authenticated
  using (bucket_id = 'datasets' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "Workers read the dataset of the job they hold a lease on" on storage.objects
  for select to authenticated
  using (bucket_id = 'datasets' and name = any ((select internal.my_leased_dataset_paths())::text[]));
