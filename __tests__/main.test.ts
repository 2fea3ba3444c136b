import { describe, expect, it } from 'vitest'
import { run } from '../src/main'
import { DEFAULT_PROJECT_ID, DEFAULT_REGION } from './emulator'
import { createOidcFixture, oidcEmulatorOptions, requestIdToken } from './support/oidc'
import { EMULATOR_KEY, serverIds as ids, useEmulator } from './support/fixtures'
import { recordingIO } from './support/recording-io'

// run() in-process with recording side effects; the bundle's own tests are in action.test.ts.

const { accessKeyId, secretAccessKey } = EMULATOR_KEY
const emulators = useEmulator()

async function inputsForEmulator(servers: string[]): Promise<Record<string, string>> {
  const emulator = await emulators.start({ jobDurationMs: 20 })
  return {
    'server-ids': servers.join(','),
    endpoint: emulator.url,
    'project-id': DEFAULT_PROJECT_ID,
    'access-key-id': accessKeyId,
    'secret-access-key': secretAccessKey,
    'poll-interval-seconds': '0.01'
  }
}

describe('run', () => {
  it('wires inputs, plan, execution and report together', async () => {
    const servers = ids(3)
    const { io, record } = recordingIO({ ...(await inputsForEmulator(servers)), 'batch-size': '2' })
    await run(io)
    expect(record.failed).toEqual([])
    expect(record.masked).toEqual([secretAccessKey])
    expect(record.outputs.status).toBe('succeeded')
    expect(JSON.parse(record.outputs['succeeded-ids'])).toEqual(servers)
    expect(Object.keys(record.outputs).sort()).toEqual([
      'failed-ids',
      'job-ids',
      'pending-ids',
      'plan',
      'pools',
      'results',
      'results-file',
      'skipped-ids',
      'status',
      'succeeded-ids',
      'waves'
    ])
    // health-gate: elb only; empty otherwise.
    expect([record.outputs.pools, record.outputs.waves]).toEqual(['[]', '[]'])
    expect(record.files[record.outputs['results-file']]).toBe(record.outputs.results)
    expect(record.lines.filter((l) => l.startsWith('group: Batch'))).toHaveLength(2)
    expect(record.lines.at(-1)).toBe('Finished with status succeeded: 3 succeeded, 0 failed, 0 pending.')
    expect(record.summaries).toHaveLength(1)
    expect(record.summaries[0]).toContain(
      `SOFT restart of 3 servers in 2 batches via ${new URL(emulators.current()?.url ?? '').host}`
    )
  })

  it('still sets the outputs when the summary cannot be written, and says so', async () => {
    const { io, record } = recordingIO(await inputsForEmulator(ids(1)), {
      writeSummary: () => Promise.reject(new Error('EACCES: permission denied'))
    })
    await run(io)
    expect(record.outputs.status).toBe('succeeded')
    expect(record.lines).toContain('warning: The job summary could not be written: EACCES: permission denied')
    expect(record.failed).toEqual([])
  })

  it('accounts for every named server when another input is invalid', async () => {
    const servers = ids(2)
    const { io, record } = recordingIO({ ...(await inputsForEmulator(servers)), wait: 'maybe' })
    await run(io)
    expect(record.failed).toEqual([`Input 'wait': "maybe" is not allowed; use true or false`])
    expect(record.outputs.status).toBe('failed')
    expect(JSON.parse(record.outputs['failed-ids'])).toEqual(servers)
    expect((JSON.parse(record.outputs.results) as unknown[])[0]).toMatchObject({
      error_message: 'Not submitted: the inputs are invalid.'
    })
    expect(emulators.current()?.requests).toHaveLength(0)
  })

  it('warns when an output is larger than GitHub keeps', async () => {
    const servers = ids(9000)
    const { io, record } = recordingIO({
      ...(await inputsForEmulator(servers)),
      wait: 'false',
      'max-servers-per-minute': '1000000'
    })
    await run(io)
    expect(record.outputs.status).toBe('submitted')
    expect(
      record.lines.some((l) => /^warning: The 'results' output is 1\.\d MB, over GitHub's 1 MB limit/.test(l))
    ).toBe(true)
    expect(record.lines.some((l) => l.includes("'pending-ids' output"))).toBe(false)
    // The file holds what the output cannot carry.
    expect(record.outputs['results-file']).toBe('/runner-temp/0-results.json')
    expect(record.files['/runner-temp/0-results.json']).toBe(record.outputs.results)
  })

  it('still sets every other output when the results file cannot be written', async () => {
    const servers = ids(2)
    const { io, record } = recordingIO(await inputsForEmulator(servers), {
      writeTempFile: () => {
        throw new Error('ENOSPC: no space left on device')
      }
    })
    await run(io)
    expect(record.outputs.status).toBe('succeeded')
    expect(record.outputs['results-file']).toBe('')
    expect(JSON.parse(record.outputs['succeeded-ids'])).toEqual(servers)
    expect(record.lines).toContain('warning: The results file could not be written: ENOSPC: no space left on device')
  })

  it('selects by filter, and plans without acting in a dry run', async () => {
    const inventory = ids(4).map((id, i) => ({ id, name: `web-${i}`, tags: i < 3 ? ['app=web'] : [] }))
    const emulator = await emulators.start({ inventory })
    const { io, record } = recordingIO({
      endpoint: emulator.url,
      'project-id': DEFAULT_PROJECT_ID,
      'access-key-id': accessKeyId,
      'secret-access-key': secretAccessKey,
      tags: 'app=web',
      'dry-run': 'true',
      'batch-size': '2'
    })
    await run(io)
    expect(record.failed).toEqual([])
    expect(record.outputs.status).toBe('dry-run')
    expect(JSON.parse(record.outputs.plan)).toEqual([
      { wave: 1, batch: 1, server_ids: ids(2) },
      { wave: 1, batch: 2, server_ids: [ids(3)[2]] }
    ])
    expect(JSON.parse(record.outputs['skipped-ids'])).toEqual(ids(3))
    expect(emulator.requests.some((r) => r.route === 'submit')).toBe(false)
    expect(record.summaries[0]).toContain('Dry run: SOFT restart of 3 servers in 2 batches')
  })

  it('fails when nothing is selected unless allow-empty, and then succeeds doing nothing', async () => {
    const emulator = await emulators.start({ inventory: ids(2).map((id) => ({ id, name: 'x' })) })
    const base = {
      endpoint: emulator.url,
      'project-id': DEFAULT_PROJECT_ID,
      'access-key-id': accessKeyId,
      'secret-access-key': secretAccessKey,
      name: 'web-*'
    }
    const strict = recordingIO(base)
    await run(strict.io)
    expect(strict.record.failed[0]).toBe(
      `Nothing selected: the filters matched none of the 2 servers listed in project ${DEFAULT_PROJECT_ID}: no server name matches "web-*". (Set allow-empty: true if an empty selection is expected.)`
    )
    const relaxed = recordingIO({ ...base, 'allow-empty': 'true', operation: 'start' })
    await run(relaxed.io)
    expect(relaxed.record.failed).toEqual([])
    expect(relaxed.record.outputs.status).toBe('succeeded')
    expect(relaxed.record.lines).toContain(
      `Nothing selected, and allow-empty is true: nothing to do. Why: the filters matched none of the 2 servers listed in project ${DEFAULT_PROJECT_ID}: no server name matches "web-*".`
    )
  })

  it('signs in with GitHub OIDC (temporary keys, project looked up) or a password (project from the token)', async () => {
    const github = createOidcFixture()
    const emulator = await emulators.start({
      jobDurationMs: 20,
      ...oidcEmulatorOptions(github),
      iamUsers: [{ domain: 'acme', name: 'ops', password: 'pw' }]
    })
    const oidcEnv = emulator.githubOidcEnv()
    const base = {
      'server-ids': ids(1)[0],
      region: DEFAULT_REGION,
      endpoint: emulator.url,
      'iam-endpoint': emulator.url,
      'poll-interval-seconds': '0.01'
    }
    const oidc = recordingIO(
      { ...base, 'idp-id': 'idp' },
      { env: oidcEnv, getIDToken: (audience) => requestIdToken(oidcEnv, audience) }
    )
    await run(oidc.io)
    expect(oidc.record.failed).toEqual([])
    expect(oidc.record.outputs.status).toBe('succeeded')
    const [keys] = emulator.issuedTemporaryKeys()
    const idToken = (
      JSON.parse(emulator.requests.find((r) => r.route === 'id-token')?.body ?? '{}') as {
        auth: { id_token: { id: string } }
      }
    ).auth.id_token.id
    expect(oidc.record.masked).toEqual([
      idToken,
      ...emulator.issuedTokens(),
      keys.accessKeyId,
      keys.secretAccessKey,
      keys.securityToken
    ])
    const lookup = emulator.requests.filter((r) => r.route === 'projects')
    expect(lookup.map((r) => r.headers['x-security-token'])).toEqual([keys.securityToken])

    const password = recordingIO({ ...base, 'iam-username': 'ops', 'iam-password': 'pw', 'iam-domain': 'acme' })
    await run(password.io)
    expect(password.record.outputs.status).toBe('succeeded')
    expect(password.record.masked[0]).toBe('pw')
    expect(emulator.requests.filter((r) => r.route === 'projects')).toHaveLength(1)
  })

  it('fails the step on an unexpected error rather than crashing', async () => {
    const { io, record } = recordingIO(
      {},
      {
        getInput: () => {
          throw new Error('runner exploded')
        }
      }
    )
    await run(io)
    expect(record.failed).toEqual(['Unexpected error: runner exploded'])
  })
})
