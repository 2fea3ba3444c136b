/**
 * Cold start: how long a fresh process takes to do nothing useful, interleaved so drift on a
 * noisy machine hits every variant alike.
 */
import { join } from 'node:path'
import { runChild } from './child'
import { SDK_PEER_DIR } from './contenders'
import { median, quantile, rotate } from './stats'

export interface ColdStartResult {
  name: string
  what: string
  medianMs: number
  p25Ms: number
  p75Ms: number
  runs: number
  /** Runs whose exit code was not the expected one (a variant that misbehaves is not timed). */
  unexpected: number
}

interface Variant {
  name: string
  what: string
  args: string[]
  env: Record<string, string>
  expectedExit: number
}

export async function measureColdStarts(
  rounds: number,
  scratch: string,
  scripts: { action: string; nova: string }
): Promise<ColdStartResult[]> {
  const path = process.env.PATH ?? ''
  const variants: Variant[] = [
    {
      name: 'node -e 0',
      what: 'a bare Node process (baseline)',
      args: ['-e', '0'],
      env: { PATH: path },
      expectedExit: 0
    },
    {
      name: 'action, bad input',
      what: 'dist/index.js with `type: GENTLE`: loads, checks every input, writes outputs and fails before any request',
      args: [scripts.action],
      env: {
        PATH: path,
        GITHUB_OUTPUT: join(scratch, 'cold-output'),
        GITHUB_STEP_SUMMARY: join(scratch, 'cold-summary'),
        'INPUT_SERVER-IDS': '00000000-0000-4000-8000-000000000001',
        INPUT_TYPE: 'GENTLE',
        INPUT_ENDPOINT: 'http://127.0.0.1:9',
        'INPUT_PROJECT-ID': '0123456789abcdef0123456789abcdef',
        'INPUT_ACCESS-KEY-ID': 'AKCOLDSTART',
        'INPUT_SECRET-ACCESS-KEY': 'SKCOLDSTART'
      },
      expectedExit: 1
    },
    {
      name: 'SDK, load + build client',
      what: 'bench/sdk-peer/peer.cjs with COLD_START=1: requires core and ecs, builds an EcsClient, exits',
      args: [join(SDK_PEER_DIR, 'peer.cjs')],
      env: {
        PATH: path,
        HOME: join(scratch, 'sdk-home'),
        COLD_START: '1',
        HWC_ENDPOINT: 'http://127.0.0.1:9',
        HWC_PROJECT_ID: 'p',
        HWC_AK: 'a',
        HWC_SK: 's'
      },
      expectedExit: 0
    },
    {
      name: 'Nova client',
      what: 'the bundled bench/nova-client.ts with COLD_START=1',
      args: [scripts.nova],
      env: { PATH: path, COLD_START: '1', NOVA_ENDPOINT: 'http://127.0.0.1:9', PROJECT_ID: 'p', AK: 'a', SK: 's' },
      expectedExit: 0
    }
  ]
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]))
  const unexpected = new Map<string, number>(variants.map((v) => [v.name, 0]))
  for (let round = 0; round < rounds; round++) {
    for (const variant of rotate(variants, round)) {
      const run = await runChild(process.execPath, variant.args, { env: variant.env, timeoutMs: 30_000, scratch })
      if (run.exitCode === variant.expectedExit) times.get(variant.name)?.push(run.wallMs)
      else unexpected.set(variant.name, (unexpected.get(variant.name) ?? 0) + 1)
    }
  }
  return variants.map((variant) => {
    const values = times.get(variant.name) ?? []
    return {
      name: variant.name,
      what: variant.what,
      medianMs: median(values),
      p25Ms: quantile(values, 0.25),
      p75Ms: quantile(values, 0.75),
      runs: values.length,
      unexpected: unexpected.get(variant.name) ?? 0
    }
  })
}
