// Summarises cache-tests result files (the JSON the suite's CLI prints) into
// Markdown tables: per suite, per target, counts of passes, required-test
// failures and optional-test failures; then totals of every result kind, and
// the failing test ids of each target.
//
// Each result is classified exactly as the suite's own report
// (cache-tests.fyi) does, with lib/display.mjs determineTestResult: a test
// whose dependency did not pass counts as "dependency failed", not by its own
// outcome; "check" tests only record a behaviour (yes / no) and are neither
// passes nor failures.
//
// Usage: node summarise.mjs NAME=results/NAME.json ... [--failures]
//   --failures  also list, per target, every failing test with its message.
import fs from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const suiteDir = path.join(here, 'node_modules', 'http-cache-tests')

// display.mjs sets up a template engine relative to the working directory;
// nothing here renders templates, but import it from the suite's directory
// to keep it as the CLI runs it.
process.chdir(suiteDir)
const { default: suites } = await import(path.join(suiteDir, 'tests', 'index.mjs'))
const { default: surrogate } = await import(path.join(suiteDir, 'tests', 'surrogate-control.mjs'))
const display = await import(path.join(suiteDir, 'lib', 'display.mjs'))
// The CLI runs the Surrogate-Control suite too (cli.mjs).
suites.push(surrogate)

const args = process.argv.slice(2)
const listFailures = args.includes('--failures')
const targets = args.filter(a => a.includes('=')).map(a => {
  const i = a.indexOf('=')
  const file = path.resolve(here, a.slice(i + 1))
  return { name: a.slice(0, i), results: JSON.parse(fs.readFileSync(file, 'utf8')) }
})
if (targets.length === 0) {
  console.error('usage: node summarise.mjs NAME=results/NAME.json ... [--failures]')
  process.exit(2)
}

// The symbol each kind has in the suite's resultTypes (third element).
const kinds = {
  '✅': 'pass',
  '⛔️': 'fail',
  '⚠️': 'optional_fail',
  Y: 'check_yes',
  N: 'check_no',
  '🔹': 'setup_fail',
  '⁉️': 'harness_fail',
  '⚪️': 'dependency_fail',
  '↻': 'retry',
  '-': 'untested'
}
const kindOrder = Object.values(kinds)

function classify (results, testId) {
  const symbol = display.determineTestResult(suites, testId, results)[2]
  const kind = kinds[symbol]
  if (kind === undefined) throw new Error(`unknown result symbol ${symbol} for ${testId}`)
  return kind
}

// The CLI skips browser-only tests; so does this summary.
function proxyTests (suite) {
  return suite.tests.filter(t => t.browser_only !== true)
}

const zero = () => Object.fromEntries(kindOrder.map(k => [k, 0]))
const totals = targets.map(zero)
const failures = targets.map(() => ({ fail: [], optional_fail: [], setup_fail: [], harness_fail: [], retry: [], dependency_fail: [] }))

const out = []
out.push(`| suite | ${targets.map(t => `${t.name} pass/fail/opt-fail`).join(' | ')} |`)
out.push(`|---|${targets.map(() => '---|').join('')}`)
for (const suite of suites) {
  const cells = targets.map((t, ti) => {
    const c = zero()
    for (const test of proxyTests(suite)) {
      const k = classify(t.results, test.id)
      c[k]++
      totals[ti][k]++
      if (failures[ti][k]) failures[ti][k].push({ suite: suite.name, id: test.id, detail: t.results[test.id] })
    }
    return `${c.pass}/${c.fail}/${c.optional_fail}`
  })
  out.push(`| ${suite.name} | ${cells.join(' | ')} |`)
}
out.push(`| **total** | ${totals.map(c => `**${c.pass}/${c.fail}/${c.optional_fail}**`).join(' | ')} |`)
out.push('')
out.push(`| result kind | ${targets.map(t => t.name).join(' | ')} |`)
out.push(`|---|${targets.map(() => '---:|').join('')}`)
const labels = {
  pass: 'pass',
  fail: 'required test failed',
  optional_fail: 'optimal test failed',
  check_yes: 'check: yes',
  check_no: 'check: no',
  setup_fail: 'setup failed',
  harness_fail: 'harness failed',
  dependency_fail: 'dependency failed',
  retry: 'retried',
  untested: 'not tested'
}
for (const k of kindOrder) {
  out.push(`| ${labels[k]} | ${totals.map(c => c[k]).join(' | ')} |`)
}
out.push('')
out.push('Required tests failed:')
out.push('')
targets.forEach((t, ti) => {
  const ids = failures[ti].fail.map(f => f.id)
  out.push(`- ${t.name} (${ids.length}): ${ids.length ? ids.map(id => `\`${id}\``).join(', ') : 'none'}`)
})

if (listFailures) {
  targets.forEach((t, ti) => {
    out.push('')
    out.push(`## ${t.name}`)
    for (const k of ['fail', 'optional_fail', 'setup_fail', 'harness_fail', 'retry', 'dependency_fail']) {
      if (failures[ti][k].length === 0) continue
      out.push('')
      out.push(`### ${labels[k]} (${failures[ti][k].length})`)
      for (const f of failures[ti][k]) {
        const msg = Array.isArray(f.detail) ? f.detail.join(': ') : JSON.stringify(f.detail)
        out.push(`- [${f.suite}] \`${f.id}\`: ${msg}`)
      }
    }
  })
}

console.log(out.join('\n'))
