// The layers of src/ and the one direction their imports may take (docs/architecture.md):
// main.ts wires action (the GitHub edge), engine and cloud; action may use engine and cloud,
// engine may use cloud, cloud uses neither; shared/ depends on nothing. No cycles, type-only
// imports included. `npm run lint` runs these rules; __tests__/project/boundaries.test.ts
// proves that each catches a planted import.
const upward = (from, to, comment) => ({
  name: `${from}-not-${to.join('-')}`,
  severity: 'error',
  comment,
  from: { path: `^src/${from}` },
  to: { path: `^src/(${to.join('|')})` }
})

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle hides which module depends on which; move the shared piece into its own module.',
      from: {},
      to: { circular: true }
    },
    upward(
      'cloud',
      ['engine', 'action', 'main\\.ts'],
      'cloud/ speaks Huawei Cloud only: it must not import the engine, the action edge or main.'
    ),
    upward(
      'engine',
      ['action', 'main\\.ts'],
      'engine/ must not import the action edge or main: inject what it needs instead.'
    ),
    upward('action', ['main\\.ts'], 'action/ must not import main.ts: main wires the layers, not the other way round.'),
    upward(
      'shared',
      ['cloud', 'engine', 'action', 'main\\.ts'],
      'shared/ is the bottom layer: it imports nothing else from src/.'
    ),
    {
      name: 'emulator-not-src',
      severity: 'error',
      comment: 'The emulator stands in for the cloud: sharing code with src/ would share the assumptions it checks.',
      from: { path: '^__tests__/emulator/' },
      to: { path: '^src/' }
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve to a file.',
      from: {},
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' }
  }
}
