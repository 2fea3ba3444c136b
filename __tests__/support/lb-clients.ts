import { onTestFinished } from 'vitest'
import { ApiClient } from '../../src/cloud/api'
import { accessKeyAuthenticator } from '../../src/cloud/auth'
import { AutoScalingClient } from '../../src/cloud/autoscaling'
import { ElbClient } from '../../src/cloud/elb'
import { createHttpTransport } from '../../src/cloud/http'
import { DEFAULT_RETRY_POLICY } from '../../src/cloud/retry'
import { DEFAULT_PROJECT_ID, type EcsEmulator, type EmulatorOptions } from '../emulator'
import { manualClock } from './emulator-calls'
import { EMULATOR_KEY } from './fixtures'

/**
 * The ELB and AS clients against an emulator on a virtual clock: the emulator, the API client and
 * the clients' waits share one clock, which only a sleep moves (each sleep recorded), so a busy
 * load balancer or a throttling window is waited out without timers.
 */
export async function lbClients(
  emulators: { start(options: EmulatorOptions): Promise<EcsEmulator> },
  options: EmulatorOptions,
  signal: AbortSignal = new AbortController().signal
) {
  const clock = manualClock()
  const emulator = await emulators.start({ ...options, now: clock.now })
  const sleeps: number[] = []
  const sleep = (ms: number): Promise<void> => {
    sleeps.push(ms)
    clock.advance(ms)
    return Promise.resolve()
  }
  const logs: string[] = []
  const transport = createHttpTransport({ timeoutMs: 5000, maxBodyBytes: 10 * 1024 * 1024, userAgent: 'test' })
  onTestFinished(() => transport.close())
  const api = new ApiClient({
    transport,
    authenticator: accessKeyAuthenticator(EMULATOR_KEY),
    retry: DEFAULT_RETRY_POLICY,
    clock: clock.now,
    sleep,
    random: () => 0.5,
    log: { info: (m) => logs.push(m), warning: (m) => logs.push(`warning: ${m}`), debug: () => {} },
    signal
  })
  const endpoint = new URL(emulator.url)
  return {
    emulator,
    api,
    endpoint,
    clock,
    sleeps,
    logs,
    elb: new ElbClient(api, endpoint, DEFAULT_PROJECT_ID, { clock: clock.now, sleep, random: () => 0.5, signal }),
    scaling: new AutoScalingClient(api, endpoint, DEFAULT_PROJECT_ID)
  }
}
