/** What a request's `Prefer` header asks for (PostgREST's preferences; unknown tokens are ignored). */
export interface Preferences {
  return: 'minimal' | 'representation' | 'headers-only' | undefined
  /** planned/estimated are answered with the exact count: our tables are small enough. */
  count: 'exact' | undefined
  resolution: 'merge-duplicates' | 'ignore-duplicates' | undefined
  missingDefault: boolean
  rollback: boolean
  /** The tokens we honoured, echoed in Preference-Applied. */
  applied: string[]
}

/** supabase-js joins tokens with "," or ", " and may send the header more than once (Node joins them). */
export function parsePreferences(header: string | string[] | undefined): Preferences {
  const prefs: Preferences = { return: undefined, count: undefined, resolution: undefined, missingDefault: false, rollback: false, applied: [] }
  const text = Array.isArray(header) ? header.join(',') : (header ?? '')
  for (const raw of text.split(',')) {
    const token = raw.trim()
    const [key, value] = token.split('=') as [string, string | undefined]
    if (key === 'return' && (value === 'minimal' || value === 'representation' || value === 'headers-only')) prefs.return = value
    else if (key === 'count' && (value === 'exact' || value === 'planned' || value === 'estimated')) prefs.count = 'exact'
    else if (key === 'resolution' && (value === 'merge-duplicates' || value === 'ignore-duplicates')) prefs.resolution = value
    else if (key === 'missing' && value === 'default') prefs.missingDefault = true
    else if (key === 'tx' && value === 'rollback') prefs.rollback = true
    else continue
    prefs.applied.push(token)
  }
  return prefs
}
