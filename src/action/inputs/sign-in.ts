import type { AccessKeyCredentials } from '../../cloud/auth'
import { InputError } from '../errors'
import { type InputSource, firstSet, readSecret, trimmedInput } from './source'

/** How the action signs in: exactly one of these per run. */
export type AuthConfig =
  | { mode: 'access-key'; credentials: AccessKeyCredentials }
  /** The workflow's GitHub OIDC token, exchanged at IAM for a project-scoped token. */
  | { mode: 'oidc'; idpId: string; audience: string }
  /** An IAM user's password, exchanged at IAM for a project-scoped token. */
  | { mode: 'password'; username: string; password: string; domain: string }

/** The audience asked of GitHub when `oidc-audience` is not set; the identity provider's client_id must match. */
export const DEFAULT_OIDC_AUDIENCE = 'huaweicloud'

const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/

interface Secrets {
  secretAccessKey: string
  securityToken: string
  iamPassword: string
}

/** Reads (and so masks) every secret input; call it before anything else can print. */
export function readSecrets(source: InputSource): Secrets {
  return {
    secretAccessKey: readSecret(source, 'secret-access-key', ['HUAWEI_CLOUD_SECRET_ACCESS_KEY', 'HUAWEICLOUD_SDK_SK']),
    securityToken: readSecret(source, 'security-token', [
      'HUAWEI_CLOUD_SECURITY_TOKEN',
      'HUAWEICLOUD_SDK_SECURITY_TOKEN'
    ]),
    iamPassword: readSecret(source, 'iam-password', [])
  }
}

/** A way to sign in that the inputs configure, and the first of its inputs that was given. */
interface ConfiguredWay {
  label: string
  input: string
}

/** The ways to sign in that the inputs (not the environment) configure. */
function configuredWays(source: InputSource): ConfiguredWay[] {
  const way = (label: string, inputs: string[]): ConfiguredWay[] => {
    const input = inputs.find((name) => trimmedInput(source, name) !== '')
    return input === undefined ? [] : [{ label, input }]
  }
  return [
    ...way('access-key-id/secret-access-key', ['access-key-id', 'secret-access-key']),
    ...way('idp-id (OIDC)', ['idp-id']),
    ...way('iam-username/iam-password', ['iam-username', 'iam-password'])
  ]
}

function readOidc(source: InputSource): AuthConfig {
  const idpId = trimmedInput(source, 'idp-id')
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(idpId)) {
    throw new InputError('idp-id', 'must be the identity provider ID from IAM (letters, digits, "-", "_")')
  }
  const audience = trimmedInput(source, 'oidc-audience') || DEFAULT_OIDC_AUDIENCE
  if (audience.length > 255 || /[\s\0]/.test(audience)) {
    throw new InputError(
      'oidc-audience',
      "must be one word of at most 255 characters: the identity provider's client_id"
    )
  }
  return { mode: 'oidc', idpId, audience }
}

function readPassword(source: InputSource, password: string): AuthConfig {
  const username = trimmedInput(source, 'iam-username')
  const domain = trimmedInput(source, 'iam-domain')
  const missing = [
    ...(username === '' ? ['iam-username'] : []),
    ...(password === '' ? ['iam-password'] : []),
    ...(domain === '' ? ['iam-domain'] : [])
  ]
  if (missing.length > 0) {
    throw new InputError(
      missing[0],
      `a password sign-in needs iam-username, iam-password and iam-domain; missing: ${missing.join(', ')}`
    )
  }
  return { mode: 'password', username, password, domain }
}

function readAccessKey(source: InputSource, { secretAccessKey, securityToken }: Secrets): AuthConfig {
  const accessKeyId = firstSet(source, 'access-key-id', ['HUAWEI_CLOUD_ACCESS_KEY_ID', 'HUAWEICLOUD_SDK_AK'])
  if (accessKeyId === '' && secretAccessKey === '') {
    throw new InputError(
      'access-key-id',
      'no credentials: give access-key-id and secret-access-key (or HUAWEI_CLOUD_ACCESS_KEY_ID and HUAWEI_CLOUD_SECRET_ACCESS_KEY), idp-id for GitHub OIDC, or iam-username, iam-password and iam-domain'
    )
  }
  if (accessKeyId === '') {
    throw new InputError(
      'access-key-id',
      'required; pass it from a secret, or set HUAWEI_CLOUD_ACCESS_KEY_ID or HUAWEICLOUD_SDK_AK'
    )
  }
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw new InputError('access-key-id', 'must be letters and digits only, as IAM issues access keys')
  }
  if (secretAccessKey === '') {
    throw new InputError(
      'secret-access-key',
      'required; pass it from a secret, or set HUAWEI_CLOUD_SECRET_ACCESS_KEY or HUAWEICLOUD_SDK_SK'
    )
  }
  if (/[\r\n\0]/.test(securityToken)) {
    throw new InputError('security-token', 'must be a single line; copy the token exactly as IAM issued it')
  }
  return {
    mode: 'access-key',
    credentials: { accessKeyId, secretAccessKey, ...(securityToken !== '' && { securityToken }) }
  }
}

/**
 * The one sign-in the inputs configure: AK/SK (from inputs, else the environment), GitHub OIDC
 * (`idp-id`) or an IAM password (`iam-username`). Several at once, or none, is an error.
 */
export function parseSignIn(source: InputSource, secrets: Secrets): AuthConfig {
  const configured = configuredWays(source)
  if (configured.length > 1) {
    throw new InputError(
      configured[0].input,
      `only one way to sign in may be configured, but these are: ${configured.map((way) => way.label).join(', ')}; remove all but one`
    )
  }
  if (configured[0]?.label.startsWith('idp-id')) return readOidc(source)
  if (configured[0]?.label.startsWith('iam-username')) return readPassword(source, secrets.iamPassword)
  return readAccessKey(source, secrets)
}
