import { describe, expect, it } from 'vitest'
import {
  RENEW_BEFORE_EXPIRY_MS,
  RENEWAL_RETRY_MS,
  type TemporaryKeys,
  temporaryKeyAuthenticator
} from '../../src/cloud/auth'
import { ApiError } from '../../src/cloud/errors'
import type { HttpRequest } from '../../src/cloud/http'
import { parseIamTime, signInHint } from '../../src/cloud/iam'

// The renewal of temporary keys, on a virtual clock: no timers, no network.

const HOUR = 60 * 60 * 1000
const request = (): HttpRequest => ({
  method: 'GET',
  url: new URL('https://ecs.example.test/v1/p/cloudservers/detail'),
  headers: { Host: 'ecs.example.test' },
  body: ''
})

/** An `obtain` that issues keys numbered 1, 2, … valid for `lifetimeMs` from the virtual clock. */
function issuer(clock: { now: number }, lifetimeMs = 6 * HOUR) {
  const issued: TemporaryKeys[] = []
  let failNext: Error | undefined
  return {
    issued,
    fail(error: Error) {
      failNext = error
    },
    obtain: (): Promise<TemporaryKeys> => {
      if (failNext) {
        const error = failNext
        failNext = undefined
        return Promise.reject(error)
      }
      const n = issued.length + 1
      const keys = {
        accessKeyId: `AK${n}`,
        secretAccessKey: `SK${n}`,
        securityToken: `ST${n}`,
        expiresAt: clock.now + lifetimeMs
      }
      issued.push(keys)
      return Promise.resolve(keys)
    }
  }
}

async function signedWith(authenticator: ReturnType<typeof temporaryKeyAuthenticator>, now: number): Promise<string> {
  const signed = await authenticator.authorize(request(), new Date(now))
  expect(signed.headers.Authorization).toMatch(/^SDK-HMAC-SHA256 Access=AK\d+, SignedHeaders=[^,]*x-security-token/)
  return signed.headers['X-Security-Token']
}

describe('temporaryKeyAuthenticator', () => {
  it('signs with the security token, and renews 40 minutes before the keys expire, as the SDKs do', async () => {
    const clock = { now: Date.UTC(2030, 0, 1) }
    const keys = issuer(clock)
    const authenticator = temporaryKeyAuthenticator({ obtain: keys.obtain, clock: () => clock.now })
    expect(await signedWith(authenticator, clock.now)).toBe('ST1')
    clock.now += 6 * HOUR - RENEW_BEFORE_EXPIRY_MS - 1
    expect(await signedWith(authenticator, clock.now)).toBe('ST1')
    clock.now += 1
    expect(await signedWith(authenticator, clock.now)).toBe('ST2')
    expect(keys.issued).toHaveLength(2)
  })

  it('renews keys issued for less than 80 minutes once half their lifetime has passed', async () => {
    const clock = { now: 0 }
    const keys = issuer(clock, 10 * 60 * 1000)
    const authenticator = temporaryKeyAuthenticator({ obtain: keys.obtain, clock: () => clock.now })
    expect(await signedWith(authenticator, clock.now)).toBe('ST1')
    clock.now = 5 * 60 * 1000 - 1
    expect(await signedWith(authenticator, clock.now)).toBe('ST1')
    clock.now += 1
    expect(await signedWith(authenticator, clock.now)).toBe('ST2')
  })

  it('starts from keys obtained at sign-in, and shares one renewal among concurrent requests', async () => {
    const clock = { now: 0 }
    const keys = issuer(clock)
    const first = await keys.obtain()
    const authenticator = temporaryKeyAuthenticator({
      obtain: keys.obtain,
      clock: () => clock.now,
      initial: { credentials: first, obtainedAt: 0 }
    })
    expect(await signedWith(authenticator, 1)).toBe('ST1')
    clock.now = 6 * HOUR - 1000
    const tokens = await Promise.all([1, 2, 3].map(() => signedWith(authenticator, clock.now)))
    expect(tokens).toEqual(['ST2', 'ST2', 'ST2'])
    expect(keys.issued).toHaveLength(2)
  })

  it('keeps using keys still valid when a renewal fails, says so, and tries again a minute later', async () => {
    const clock = { now: 0 }
    const keys = issuer(clock)
    const failures: unknown[] = []
    const authenticator = temporaryKeyAuthenticator({
      obtain: keys.obtain,
      clock: () => clock.now,
      onRenewalFailed: (error) => failures.push(error)
    })
    await signedWith(authenticator, 0)
    clock.now = 6 * HOUR - RENEW_BEFORE_EXPIRY_MS
    keys.fail(new Error('Exchanging the ID token at IAM failed with HTTP 503'))
    expect(await signedWith(authenticator, clock.now)).toBe('ST1')
    expect(failures).toHaveLength(1)
    clock.now += RENEWAL_RETRY_MS - 1
    expect(await signedWith(authenticator, clock.now)).toBe('ST1')
    expect(keys.issued).toHaveLength(1)
    clock.now += 1
    expect(await signedWith(authenticator, clock.now)).toBe('ST2')
  })

  it('fails the request with the renewal error once the keys have expired', async () => {
    const clock = { now: 0 }
    const keys = issuer(clock)
    const authenticator = temporaryKeyAuthenticator({ obtain: keys.obtain, clock: () => clock.now })
    await signedWith(authenticator, 0)
    clock.now = 6 * HOUR
    keys.fail(new Error('Getting temporary access keys from IAM failed with HTTP 403'))
    await expect(authenticator.authorize(request(), new Date(clock.now))).rejects.toThrow(
      /Getting temporary access keys from IAM failed/
    )
    expect(await signedWith(authenticator, clock.now)).toBe('ST2')
  })

  it('renews once per run after the cloud refused the keys as expired, and never retries the refused keys', async () => {
    const clock = { now: 0 }
    const keys = issuer(clock)
    const authenticator = temporaryKeyAuthenticator({ obtain: keys.obtain, clock: () => clock.now })
    const refused = await authenticator.authorize(request(), new Date(0))
    const [a, b] = await Promise.all([authenticator.renew(refused), authenticator.renew(refused)])
    expect([a, b]).toEqual([true, true])
    expect(keys.issued).toHaveLength(2)
    expect(await signedWith(authenticator, 1)).toBe('ST2')
    // A request still signed with the old keys is simply retried with the new ones.
    expect(await authenticator.renew(refused)).toBe(true)
    // The new keys refused too: no second renewal, no retry.
    const again = await authenticator.authorize(request(), new Date(1))
    expect(await authenticator.renew(again)).toBe(false)
    expect(keys.issued).toHaveLength(2)
  })

  it('reports a failed renewal after a refusal as not renewed', async () => {
    const clock = { now: 0 }
    const keys = issuer(clock)
    const authenticator = temporaryKeyAuthenticator({ obtain: keys.obtain, clock: () => clock.now })
    const refused = await authenticator.authorize(request(), new Date(0))
    keys.fail(new Error('IAM down'))
    expect(await authenticator.renew(refused)).toBe(false)
  })
})

describe('parseIamTime', () => {
  it('reads IAM times with microseconds, milliseconds or none, and nothing else', () => {
    expect(parseIamTime('2020-01-08T03:50:07.574000Z')).toBe(Date.UTC(2020, 0, 8, 3, 50, 7, 574))
    expect(parseIamTime('2020-01-08T03:50:07.574Z')).toBe(Date.UTC(2020, 0, 8, 3, 50, 7, 574))
    expect(parseIamTime('2020-01-08T03:50:07Z')).toBe(Date.UTC(2020, 0, 8, 3, 50, 7))
    for (const bad of ['2020-01-08 03:50:07', '', 42, undefined, '2020-13-45T99:00:00Z']) {
      expect(parseIamTime(bad)).toBeNaN()
    }
  })
})

describe('signInHint for temporary keys', () => {
  it('points a refusal to the access type and conversion rules, anything else to a re-run', () => {
    const refused = new ApiError(403, 'IAM.0003', 'Forbidden', 'r', 'Getting temporary access keys from IAM')
    expect(signInHint(refused, 'temporary-keys')).toMatch(/programmatic access.*identity conversion rules/)
    const broken = new ApiError(500, undefined, 'oops', 'r', 'Getting temporary access keys from IAM')
    expect(signInHint(broken, 'temporary-keys')).toMatch(/re-run the job/)
  })
})
