import type { Queryable } from '../../../db/database.ts'

/** A user as GoTrue answers it (GET /user, and `user` in a session). */
export interface AuthUser {
  id: string
  aud: string
  role: string
  email: string
  phone: string
  app_metadata: Record<string, unknown>
  user_metadata: Record<string, unknown>
  identities: Record<string, unknown>[]
  created_at: string
  updated_at: string
  last_sign_in_at: string | null
  is_anonymous: boolean
  /** Not part of GoTrue's JSON: used to refuse banned users; stripped by `publicUser`. */
  banned: boolean
}

const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : value === null ? null : String(value))

/** The user with its identities, or undefined when there is none (or it was deleted). */
export async function findUser(q: Queryable, userId: string): Promise<AuthUser | undefined> {
  const { rows } = await q.query<Record<string, unknown>>(
    `select u.id, coalesce(u.aud, 'authenticated') as aud, coalesce(u.role, 'authenticated') as role,
            coalesce(u.email, '') as email, coalesce(u.phone, '') as phone,
            u.raw_app_meta_data as app_metadata, u.raw_user_meta_data as user_metadata,
            u.is_anonymous, u.created_at, u.updated_at, u.last_sign_in_at,
            coalesce(u.banned_until > now(), false) as banned,
            coalesce((select jsonb_agg(jsonb_build_object(
                        'identity_id', i.id, 'id', i.provider_id, 'user_id', i.user_id,
                        'identity_data', i.identity_data, 'provider', i.provider,
                        'last_sign_in_at', i.last_sign_in_at, 'created_at', i.created_at,
                        'updated_at', i.updated_at) order by i.created_at)
                      from auth.identities i where i.user_id = u.id), '[]'::jsonb) as identities
       from auth.users u
      where u.id = $1::uuid and u.deleted_at is null`,
    [userId],
  )
  const row = rows[0]
  if (!row) return undefined
  return {
    ...(row as unknown as AuthUser),
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    last_sign_in_at: iso(row.last_sign_in_at),
  }
}

/** GoTrue's user JSON (without our internal fields). */
export function publicUser(user: AuthUser): Omit<AuthUser, 'banned'> {
  const { banned: _banned, ...rest } = user
  return rest
}

/** An anonymous user (`is_anonymous`, no identities), as GoTrue's anonymous sign-in creates it. */
export async function createAnonymousUser(q: Queryable, userId: string, userMetadata: Record<string, unknown>): Promise<void> {
  await q.query(
    `insert into auth.users (id, aud, role, raw_app_meta_data, raw_user_meta_data, is_anonymous, last_sign_in_at)
     values ($1::uuid, 'authenticated', 'authenticated', '{}'::jsonb, $2::jsonb, true, now())`,
    [userId, JSON.stringify(userMetadata)],
  )
}

/**
 * The user of a wallet: found by its identity, or created with it — in ONE statement, so two
 * first sign-ins of the same wallet at once end with one user (the second waits on the identity's
 * unique key and then takes the update branch). `newUserId` is used only when the wallet is new.
 * The user's metadata is refreshed from the identity on every sign-in, as GoTrue does.
 */
export async function upsertIdentityUser(
  q: Queryable,
  identity: { provider: string; providerId: string; identityData: Record<string, unknown> },
  newUserId: string,
): Promise<{ userId: string; created: boolean }> {
  const { rows } = await q.query<{ user_id: string; created: boolean }>(
    `with identity as (
       insert into auth.identities as i (provider_id, provider, user_id, identity_data, last_sign_in_at)
       values ($1::text, $2::text, $3::uuid, $4::jsonb, now())
       on conflict (provider_id, provider) do update
         set identity_data = excluded.identity_data, last_sign_in_at = now(), updated_at = now()
       returning i.user_id, (i.xmax = 0) as created
     ), created_user as (
       insert into auth.users (id, aud, role, raw_app_meta_data, raw_user_meta_data, last_sign_in_at)
       select user_id, 'authenticated', 'authenticated',
              jsonb_build_object('provider', $2::text, 'providers', jsonb_build_array($2::text)), $4::jsonb, now()
         from identity where created
       returning id
     ), signed_in_user as (
       update auth.users u
          set raw_user_meta_data = u.raw_user_meta_data || $4::jsonb, last_sign_in_at = now(), updated_at = now()
         from identity where u.id = identity.user_id and not identity.created
       returning u.id
     )
     select user_id::text, created from identity`,
    [identity.providerId, identity.provider, newUserId, JSON.stringify(identity.identityData)],
  )
  const row = rows[0]!
  return { userId: row.user_id, created: row.created }
}
