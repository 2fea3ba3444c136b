import { describe, expect, it } from 'vitest'
import { interpretJob } from '../../src/cloud/jobs'

const batch = ['a', 'b', 'c']
const sub = (serverId: unknown, status: string, extra: object = {}): object => ({
  status,
  entities: { server_id: serverId },
  ...extra
})

describe('interpretJob', () => {
  it('takes each server from its own sub-job', () => {
    const observation = interpretJob(
      {
        status: 'FAIL',
        error_code: 'Ecs.0227',
        fail_reason: 'job failed',
        entities: {
          sub_jobs: [
            sub('a', 'SUCCESS'),
            sub('b', 'FAIL', { error_code: 'Ecs.0100', fail_reason: 'wrong state' }),
            sub('c', 'SUCCESS')
          ]
        }
      },
      batch
    )
    expect(observation).toEqual({
      status: 'FAIL',
      finished: true,
      succeeded: ['a', 'c'],
      failed: [{ id: 'b', code: 'Ecs.0100', message: 'wrong state' }],
      strangers: []
    })
  })

  it('gives servers without a sub-job the job result once it has finished', () => {
    expect(interpretJob({ status: 'SUCCESS', entities: { sub_jobs: [] } }, batch).succeeded).toEqual(batch)
    const failed = interpretJob(
      { status: 'FAIL', error_code: 'Ecs.0611', fail_reason: 'Batch operation failed.' },
      batch
    )
    expect(failed.failed).toEqual(batch.map((id) => ({ id, code: 'Ecs.0611', message: 'Batch operation failed.' })))
    const bare = interpretJob({ status: 'FAIL' }, ['a'])
    expect(bare.failed).toEqual([{ id: 'a', code: null, message: 'The job failed without a sub-job for this server.' }])
  })

  it('records finished sub-jobs of a running job and leaves the others open', () => {
    const observation = interpretJob(
      { status: 'RUNNING', entities: { sub_jobs: [sub('a', 'SUCCESS'), sub('b', 'RUNNING'), sub('c', 'INIT')] } },
      batch
    )
    expect(observation).toMatchObject({ finished: false, succeeded: ['a'], failed: [] })
  })

  it('treats unknown statuses as not finished', () => {
    for (const status of ['INIT', 'RUNNING', 'PENDING_PAYMENT', 'WHATEVER']) {
      expect(interpretJob({ status }, batch)).toMatchObject({ status, finished: false, succeeded: [], failed: [] })
    }
    expect(interpretJob({ status: 42 }, batch)).toMatchObject({ status: 'UNKNOWN', finished: false })
  })

  it('uses the sub-job error message, then the job error, when the sub-job has no reason', () => {
    const observation = interpretJob(
      {
        status: 'FAIL',
        error_code: 'Ecs.0227',
        fail_reason: 'job reason',
        entities: {
          sub_jobs: [
            { status: 'FAIL', entities: { server_id: 'a', errorcode_message: 'entity reason' } },
            { status: 'FAIL', entities: { server_id: 'b' } }
          ]
        }
      },
      ['a', 'b']
    )
    expect(observation.failed).toEqual([
      { id: 'a', code: 'Ecs.0227', message: 'entity reason' },
      { id: 'b', code: 'Ecs.0227', message: 'job reason' }
    ])
  })

  it('ignores sub-jobs for servers outside the batch and survives malformed documents', () => {
    const observation = interpretJob(
      {
        status: 'SUCCESS',
        entities: { sub_jobs: [sub('zzz', 'FAIL'), null, 'x', { status: 'FAIL' }, sub(7, 'FAIL'), sub('a', 'SUCCESS')] }
      },
      ['a', 'b']
    )
    expect(observation).toMatchObject({ finished: true, succeeded: ['a', 'b'], failed: [], strangers: ['zzz'] })
    for (const document of [null, 'text', [], 12, { entities: 'x' }, { entities: { sub_jobs: {} } }]) {
      expect(interpretJob(document, ['a'])).toMatchObject({ finished: false, succeeded: [], failed: [] })
    }
  })
})
