/** Input sources for the unit tests of the action's inputs, and what they make of them. */
import { InputErrors } from '../../src/action/errors'
import { type ActionInputs, readInputs } from '../../src/action/inputs'
import type { InputSource } from '../../src/action/inputs/source'
import type { AccessKeyCredentials } from '../../src/cloud/auth'

export const A = '616fb98f-46ca-475e-917e-2563e5a8cd19'
export const B = '726fb98f-46ca-475e-917e-2563e5a8cd20'

export function source(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  files: Record<string, string> = {}
): InputSource & { masked: string[] } {
  const masked: string[] = []
  return {
    getInput: (name) => inputs[name] ?? '',
    env,
    maskSecret: (value) => masked.push(value),
    readFile: (path) =>
      files[path] ??
      ((): never => {
        throw Object.assign(new Error('missing'), { code: 'ENOENT' })
      })(),
    masked
  }
}

/** The access key the inputs configure (the tests below use that sign-in). */
export function keyOf(inputs: ActionInputs): AccessKeyCredentials {
  if (inputs.auth.mode !== 'access-key') throw new Error(`signs in with ${inputs.auth.mode}`)
  return inputs.auth.credentials
}

export const valid = {
  'server-ids': A,
  region: 'ap-southeast-1',
  'access-key-id': 'AKEXAMPLE',
  'secret-access-key': 'secret/key+value'
}

export function problemsOf(inputs: Record<string, string>, env: Record<string, string> = {}): string[] {
  try {
    readInputs(source(inputs, env))
  } catch (error) {
    if (error instanceof InputErrors) return error.problems.map((p) => p.message)
    throw error
  }
  throw new Error('expected the inputs to be rejected')
}
