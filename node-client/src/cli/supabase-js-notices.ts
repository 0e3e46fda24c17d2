/**
 * Two notices supabase-js 2.119 prints with console.warn that do not apply to this CLI, and that
 * would otherwise land in every command's stderr (where `--json` promises one JSON object per
 * line):
 * - "Node.js 20 and below are deprecated…", on import: we support Node 20 on purpose, it is what
 *   a fresh machine here has (docs/environment.md);
 * - 'The "lock" option is deprecated…', per client: we pass a cross-process file lock on purpose
 *   (credential-store.ts says why), the path supabase-js keeps for Node multi-process setups in v2.
 * Imported first by main.ts, before any command loads supabase-js; every other warning passes.
 */
const IGNORED = ['Node.js 20 and below are deprecated', 'The "lock" option is deprecated']

const warn = console.warn.bind(console)
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && IGNORED.some((text) => (args[0] as string).includes(text))) return
  warn(...args)
}
