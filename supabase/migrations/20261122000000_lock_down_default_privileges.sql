-- Least privilege from the first migration on. Hosted Supabase grants every new table and
-- function in `public` to anon and authenticated and relies on RLS alone; we take that away so
-- that every grant in later migrations is explicit and reviewable.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from public;
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on functions from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;

-- Helpers that policies and RPCs call but that the API must not expose (PostgREST serves
-- `public` only).
create schema if not exists internal;
revoke all on schema internal from public;
grant usage on schema internal to authenticated, service_role;
comment on schema internal is 'Oblivion helpers for policies and RPCs; never exposed through the API.';
