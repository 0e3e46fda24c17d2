-- Local auth service state for the gateway (supabase/src/gateway/auth). Hosted Supabase has its own;
-- this file is applied only locally, after bootstrap.sql, and is idempotent.
-- Table and column names follow GoTrue's (auth.sessions, auth.refresh_tokens, auth.identities) so
-- SQL written against hosted Supabase reads the same here. Only the gateway (the connection's own
-- role) touches them: no grants to anon/authenticated/service_role, as on hosted Supabase.

begin;
select pg_advisory_xact_lock(2026112202); -- concurrent `create … if not exists` can collide on pg_type

-- One row per sign-in (device). Deleting it is signing out: its refresh tokens go with it and
-- access tokens naming it in `session_id` stop passing GET /user.
create table if not exists auth.sessions (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  aal text not null default 'aal1',
  -- How the session was authenticated: the access token's `amr` claim ("web3", "anonymous").
  amr_method text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  refreshed_at timestamptz,
  user_agent text
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);

-- Refresh tokens are stored as SHA-256 hashes: a database reader cannot use them.
-- Each refresh revokes its token and inserts the child (`parent` = the revoked one's id).
create table if not exists auth.refresh_tokens (
  id bigserial primary key,
  token_hash text not null unique,
  user_id uuid not null references auth.users (id) on delete cascade,
  session_id uuid not null references auth.sessions (id) on delete cascade,
  parent bigint,
  revoked boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists refresh_tokens_session_id_idx on auth.refresh_tokens (session_id);

-- A user's sign-in methods. For Sign-In with Ethereum provider_id is
-- `web3:ethereum:<lower-case address>`: one stable user per wallet.
create table if not exists auth.identities (
  id uuid primary key default gen_random_uuid(),
  provider_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  identity_data jsonb not null default '{}'::jsonb,
  provider text not null,
  last_sign_in_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider_id, provider)
);
create index if not exists identities_user_id_idx on auth.identities (user_id);

-- Used SIWE nonces, per address, kept until the message that carried them could no longer pass
-- the time checks (`expires_at`): a replayed message is refused, and the table stays small.
-- GoTrue keeps no nonces; this is the gateway's own replay protection.
create table if not exists auth.web3_nonces (
  address text not null,
  nonce text not null,
  expires_at timestamptz not null,
  primary key (address, nonce)
);
create index if not exists web3_nonces_expires_at_idx on auth.web3_nonces (expires_at);

commit;
