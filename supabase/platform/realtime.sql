-- Local realtime service state for the gateway (supabase/src/gateway/realtime). Hosted Supabase has its own;
-- this file is applied only locally, after bootstrap.sql, and is idempotent.
select 1;
