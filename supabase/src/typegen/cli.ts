import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from '../db/open-default.ts'
import { DATABASE_TYPES_FILE, introspectMigrations } from './generate.ts'
import { renderDatabaseTypes } from './render.ts'

const USAGE = `Usage: npm run gen:types [-- --check]

Generates supabase/database.types.ts from supabase/migrations (applied to a throwaway in-memory
PGlite), in the shape of \`supabase gen types typescript\`.

  --check   Write nothing; exit 1 if the file differs from what the migrations produce (CI).
  --help    Show this help.

Exit codes: 0 written or up to date, 1 out of date (--check), 2 bad arguments.`

function parse(): { check: boolean } {
  try {
    const { values } = parseArgs({
      options: { check: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
      strict: true,
    })
    if (values.help) {
      console.log(USAGE)
      process.exit(0)
    }
    return { check: values.check }
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
}

const { check } = parse()
const model = await introspectMigrations()
const text = renderDatabaseTypes(model)
const file = path.relative(REPO_ROOT, DATABASE_TYPES_FILE)
const current = await readFile(DATABASE_TYPES_FILE, 'utf8').catch(() => null)
const counts =
  `${model.tables.length} tables, ${model.views.length} views, ${model.functions.length} functions, ` +
  `${model.enums.length} enums, ${model.compositeTypes.length} composite types`

if (check) {
  if (current !== text) {
    console.error(
      `${file} is out of date with supabase/migrations. Run \`npm run gen:types\` and commit the result.`,
    )
    process.exit(1)
  }
  console.log(`${file} is up to date (${counts}).`)
} else {
  if (current !== text) await writeFile(DATABASE_TYPES_FILE, text)
  console.log(`${current === text ? 'Unchanged' : 'Wrote'} ${file} (${counts}).`)
}
