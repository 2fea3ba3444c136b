/** http.ts over TLS: a certificate the runner does not trust fails before sending, with the fix named. */
import { describe, expect, it } from 'vitest'
import { createHttpTransport, describeNetworkFailure } from '../../src/cloud/http'
import { TransportError } from '../../src/cloud/errors'
import { useEmulator } from '../support/fixtures'
import { createTestCertificates } from '../support/tls'

const emulators = useEmulator()
const certificates = await createTestCertificates(['localhost'])

async function failureAgainst(tls: { key: string; cert: string }): Promise<TransportError> {
  const emulator = await emulators.start({ tls })
  const transport = createHttpTransport({ timeoutMs: 5000, maxBodyBytes: 1024, userAgent: 'test' })
  try {
    const url = new URL('/v3/projects', emulator.url)
    const error: unknown = await transport.send({ method: 'GET', url, headers: {}, body: '' }, 'Lookup').then(
      () => undefined,
      (reason: unknown) => reason
    )
    expect(error).toBeInstanceOf(TransportError)
    // The handshake failed: nothing reached the emulator's routes.
    expect(emulator.requests).toHaveLength(0)
    return error as TransportError
  } finally {
    transport.close()
  }
}

describe('HTTPS transport with an untrusted certificate', () => {
  it.each([
    ['signed by an unknown CA', { key: certificates.key, cert: certificates.cert }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    [
      'with the unknown root in the chain',
      { key: certificates.key, cert: `${certificates.cert.trim()}\n${certificates.caCert}` },
      'SELF_SIGNED_CERT_IN_CHAIN'
    ],
    [
      'self-signed',
      { key: certificates.selfSignedKey, cert: certificates.selfSignedCert },
      'DEPTH_ZERO_SELF_SIGNED_CERT'
    ]
  ])('%s: names the TLS code and NODE_EXTRA_CA_CERTS, and counts as not sent', async (_, tls, code) => {
    const error = await failureAgainst(tls)
    expect(error.message).toMatch(new RegExp(`^Lookup got no complete answer: ${code} .*`))
    expect(error.message).toContain('signed by a CA this runner does not trust')
    expect(error.message).toContain('set the NODE_EXTRA_CA_CERTS environment variable of the job')
    expect(error.sent).toBe(false)
  })
})

describe('describeNetworkFailure', () => {
  const failure = (code: string, syscall?: string): Error =>
    Object.assign(new Error(`${syscall ?? ''} ${code}`.trim()), { code, syscall })

  it('counts failures to resolve or connect, and refused certificates, as never sent', () => {
    for (const [code, syscall] of [
      ['ENOTFOUND', 'getaddrinfo'],
      ['EAI_AGAIN', 'getaddrinfo'],
      ['ECONNREFUSED', 'connect'],
      ['EHOSTUNREACH', 'connect'],
      ['ENETUNREACH', 'connect'],
      ['CERT_HAS_EXPIRED', undefined],
      ['SELF_SIGNED_CERT_IN_CHAIN', undefined]
    ]) {
      expect(describeNetworkFailure(failure(code as string, syscall)).sent, code).toBe(false)
    }
  })

  it('counts the same codes on an open connection as possibly sent: a restart is then never resent', () => {
    // A route flap after the request was written: `read EHOSTUNREACH`.
    for (const [code, syscall] of [
      ['EHOSTUNREACH', 'read'],
      ['ENETUNREACH', 'write'],
      ['ECONNREFUSED', undefined],
      ['ECONNRESET', 'read']
    ]) {
      expect(describeNetworkFailure(failure(code as string, syscall)).sent, `${code} ${syscall}`).toBe(true)
    }
  })
})
