import { afterEach } from 'vitest'
import { DEFAULT_ACCESS_KEY, EcsEmulator, type EmulatorOptions } from '../emulator'

/** The access key the emulator accepts by default. */
export const EMULATOR_KEY = DEFAULT_ACCESS_KEY

/** `n` distinct UUID-shaped server IDs, numbered from `offset`. */
export function serverIds(n: number, offset = 0): string[] {
  return Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i + offset).padStart(12, '0')}`)
}

/** Starts an emulator per test on demand and closes it after each test. */
export function useEmulator(): {
  start(options?: EmulatorOptions): Promise<EcsEmulator>
  current(): EcsEmulator | undefined
} {
  let emulator: EcsEmulator | undefined
  afterEach(async () => {
    await emulator?.close()
    emulator = undefined
  })
  return {
    async start(options = {}) {
      emulator = await EcsEmulator.start(options)
      return emulator
    },
    current: () => emulator
  }
}
