import { describe, expect, it } from 'vitest'
import { InputErrors } from '../../src/action/errors'
import { readInputs } from '../../src/action/inputs'
import { resolveAmount } from '../../src/action/inputs/values'
import { A, B, problemsOf, source, valid } from '../support/input-source'

describe('selection and rolling inputs', () => {
  const base = { ...valid, 'server-ids': '' }

  it('selects by filters alone, and needs some selection', () => {
    const inputs = readInputs(source({ ...base, tags: 'app=web\nenv=prod', name: 'web-*', status: 'active' }))
    expect(inputs.serverIds).toEqual([])
    expect(inputs.filters).toEqual({
      tags: [
        { key: 'app', value: 'web' },
        { key: 'env', value: 'prod' }
      ],
      name: 'web-*',
      statuses: ['ACTIVE']
    })
    expect(problemsOf(base)[0]).toMatch(
      /^Input 'server-ids': no servers selected; .* server-ids-file, or select by tags, name or status/
    )
  })

  it('reads tags as key=value (exact), key= (bare or empty value) and key alone (any value)', () => {
    const inputs = readInputs(source({ ...base, tags: 'canary, team=\n app = web , note=a=b' }))
    expect(inputs.filters.tags).toEqual([
      { key: 'canary', value: undefined },
      { key: 'team', value: '' },
      { key: 'app', value: 'web' },
      { key: 'note', value: 'a=b' }
    ])
  })

  it.each(['PAUSED', 'SUSPENDED', 'SOFT_DELETED', 'DELETED', 'shelved_offloaded', 'unknown'])(
    'accepts the documented server state %s in status',
    (state) => {
      expect(readInputs(source({ ...base, status: state })).filters.statuses).toEqual([state.toUpperCase()])
    }
  )

  it('reads server-ids-file relative to the workspace, combined with server-ids', () => {
    const inputs = readInputs(
      source(
        { ...valid, 'server-ids-file': 'fleet/ids.txt' },
        { GITHUB_WORKSPACE: '/ws' },
        { '/ws/fleet/ids.txt': `${B}\n${A}\n` }
      )
    )
    expect(inputs.serverIds).toEqual([A, B])
  })

  it.each([
    ['/etc/passwd', /not a path inside the workspace/],
    ['../outside.txt', /not a path inside the workspace/],
    ['missing.txt', /"missing.txt" cannot be read \(ENOENT\)/]
  ])('rejects server-ids-file %s', (path, problem) => {
    const [message] = problemsOf({ ...valid, 'server-ids-file': path }, { GITHUB_WORKSPACE: '/ws' })
    expect(message).toMatch(/^Input 'server-ids-file': /)
    expect(message).toMatch(problem)
  })

  it('reads # comments and blank lines in server-ids-file', () => {
    const file = `# web tier\n${A}  # web-1\n\n   \n# ${B} retired\n${B.toUpperCase()},${A}# again\n`
    const inputs = readInputs(
      source({ ...valid, 'server-ids': '', 'server-ids-file': 'ids' }, { GITHUB_WORKSPACE: '/ws' }, { '/ws/ids': file })
    )
    expect(inputs.serverIds).toEqual([A, B])
  })

  it.each(['0', '0.5', '0.999'])('refuses timeout-seconds %j: the run needs at least a second', (value) => {
    expect(problemsOf({ ...valid, 'timeout-seconds': value })[0]).toBe(
      `Input 'timeout-seconds': "${value}" is not allowed; use a number of seconds from 1 to 21600 (decimals allowed)`
    )
  })

  it.each(['batch-size', 'max-failures'])('mentions the percentage form in %s errors', (name) => {
    for (const value of ['many', '2000000', '150%']) {
      expect(problemsOf({ ...valid, [name]: value })[0]).toMatch(
        new RegExp(`^Input '${name}': .* or a percentage of the selected servers from 1% to 100% \\(e\\.g\\. 25%\\)$`)
      )
    }
  })

  it('names the file when its IDs are invalid', () => {
    const [message] = (() => {
      try {
        readInputs(source({ ...valid, 'server-ids-file': 'ids' }, { GITHUB_WORKSPACE: '/ws' }, { '/ws/ids': 'web-1' }))
      } catch (error) {
        return (error as InputErrors).problems.map((p) => p.message)
      }
      return []
    })()
    expect(message).toMatch(/^Input 'server-ids-file': 1 of 1 entries are not server IDs: "web-1"/)
  })

  it('says when server-ids looks cut off by the runner', () => {
    const [message] = problemsOf({ ...valid, 'server-ids': `${A}, ${B.slice(0, 20)}` })
    expect(message).toMatch(
      /The last entry looks cut off: one input holds at most 128 KiB \(about 3,500 IDs\); use server-ids-file/
    )
    expect(problemsOf({ ...valid, 'server-ids': `${A}, web-01` })[0]).not.toMatch(/cut off/)
  })

  it('reads operations, percentages, rolling settings and switches', () => {
    const inputs = readInputs(
      source({
        ...valid,
        operation: 'STOP',
        'batch-size': '25%',
        rolling: 'true',
        'pause-seconds': '1.5',
        'max-failures': '10%',
        'enterprise-project-id': 'all_granted_eps',
        'allow-empty': 'true',
        'skip-inactive': 'true',
        'dry-run': 'true'
      })
    )
    expect(inputs).toMatchObject({
      operation: { kind: 'stop', type: 'SOFT' },
      batchSize: { percent: 25 },
      rolling: true,
      waitForTargetState: true,
      pauseMs: 1500,
      maxFailures: { percent: 10 },
      enterpriseProjectId: 'all_granted_eps',
      allowEmpty: true,
      skipInactive: true,
      dryRun: true
    })
    expect(readInputs(source({ ...valid, 'wait-for-active': 'auto' })).waitForTargetState).toBe(false)
    expect(readInputs(source({ ...valid, 'wait-for-active': 'true' })).waitForTargetState).toBe(true)
    expect(readInputs(source({ ...valid, rolling: 'true', 'wait-for-active': 'false' })).waitForTargetState).toBe(false)
  })

  it.each([
    [{ operation: 'restart' }, /^Input 'operation': "restart" is not allowed; use reboot, start or stop/],
    [
      { 'batch-size': '0%' },
      /^Input 'batch-size': "0%" is not allowed; use a whole number from 1 to 1000, or a percentage of the selected servers from 1% to 100% \(e\.g\. 25%\)/
    ],
    [{ 'batch-size': '101%' }, /^Input 'batch-size'/],
    [{ 'max-failures': '-1' }, /^Input 'max-failures'/],
    [{ 'pause-seconds': 'soon' }, /^Input 'pause-seconds'/],
    [{ 'wait-for-active': 'maybe' }, /^Input 'wait-for-active'/],
    [{ rolling: 'true', wait: 'false' }, /^Input 'rolling': needs wait: true/],
    [{ 'wait-for-active': 'true', wait: 'false' }, /^Input 'wait-for-active': needs wait: true/],
    [{ 'enterprise-project-id': '../x' }, /^Input 'enterprise-project-id'/],
    [{ tags: '=prod' }, /^Input 'tags': "=prod" is not a tag; write key=value, key= \(no value\) or key alone/],
    [{ tags: 'my env=prod' }, /^Input 'tags'/],
    [{ status: 'RUNNING' }, /^Input 'status'/]
  ])('rejects %j', (inputs, problem) => {
    expect(problemsOf({ ...valid, ...inputs })[0]).toMatch(problem)
  })

  it('resolves percentages against the selection, within bounds', () => {
    expect(resolveAmount({ percent: 25 }, 10, 'up', 1, 1000)).toBe(3)
    expect(resolveAmount({ percent: 1 }, 10, 'up', 1, 1000)).toBe(1)
    expect(resolveAmount({ percent: 100 }, 50_000, 'up', 1, 1000)).toBe(1000)
    expect(resolveAmount({ percent: 10 }, 25, 'down', 0, 100)).toBe(2)
    expect(resolveAmount({ count: 7 }, 25, 'down', 0, 100)).toBe(7)
  })
})
