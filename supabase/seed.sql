-- Seed data for a local database (`npm start` applies it once, after the migrations).
-- The network starts empty on purpose: users, workers and jobs come from real sign-ins and RPCs.
-- Storage buckets the product uses are created here so uploads work from the first minute.
insert into storage.buckets (id, name, public)
values ('artifacts', 'artifacts', false), ('datasets', 'datasets', false)
on conflict (id) do nothing;
