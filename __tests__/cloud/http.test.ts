/** http.ts over TLS: a certificate the runner does not trust fails before sending, with the fix named. */
import { describe, expect, it } from 'vitest'
import { createHttpTransport } from '../../src/cloud/http'
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
