/**
 * Generated TLS material for HTTPS tests: a private CA and a server certificate it signs, for the
 * names and addresses the emulator is reached by (selfsigned, RSA 2048, SHA-256).
 */
import { generate } from 'selfsigned'

export interface TestCertificates {
  /** The CA's certificate (PEM): what NODE_EXTRA_CA_CERTS would name. */
  caCert: string
  /** The server's private key and certificate (PEM), signed by the CA. */
  key: string
  cert: string
  /** A certificate for the same names signed by its own key (no CA), with `selfSignedKey`. */
  selfSignedCert: string
  selfSignedKey: string
}

type Extensions = NonNullable<NonNullable<Parameters<typeof generate>[1]>['extensions']>

const serverExtensions = (hosts: string[]): Extensions => [
  { name: 'basicConstraints', cA: false },
  { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
  { name: 'extKeyUsage', serverAuth: true },
  {
    name: 'subjectAltName',
    altNames: [...hosts.map((value) => ({ type: 2 as const, value })), { type: 7, ip: '127.0.0.1' }]
  }
]

/** A CA and a server certificate for `hosts` (DNS names) and 127.0.0.1. */
export async function createTestCertificates(hosts: string[]): Promise<TestCertificates> {
  const ca = await generate([{ name: 'commonName', value: 'ecs-batch-restart test CA' }], {
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
    ]
  })
  const subject = [{ name: 'commonName', value: hosts[0] }]
  const leaf = await generate(subject, {
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: serverExtensions(hosts)
  })
  const selfSigned = await generate(subject, { algorithm: 'sha256', extensions: serverExtensions(hosts) })
  return {
    caCert: ca.cert,
    key: leaf.private,
    cert: leaf.cert,
    selfSignedCert: selfSigned.cert,
    selfSignedKey: selfSigned.private
  }
}
