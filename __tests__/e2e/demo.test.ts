import { describe, expect, it } from 'vitest'
import { runScript, takeSummaries } from '../support/run-script'

describe('npm run demo', () => {
  it('runs the bundled action against the emulator and shows its outputs and summary', async () => {
    const { code, output } = await runScript('scripts/demo.ts')
    expect(code, output).toBe(0)
    expect(output).toContain('Finished with status failed: 2497 succeeded, 3 failed, 0 pending.')
    expect(output).toMatch(/^status: failed$/m)
    expect(output).toMatch(/^failed-ids: \["[0-9a-f-]{36}","[0-9a-f-]{36}","[0-9a-f-]{36}"\]$/m)
    expect(output).toMatch(/The emulator verified (\d+) of \1 request signatures\./)
    const summaries = await takeSummaries(output)
    expect(summaries, output).toHaveLength(1)
    expect(summaries[0]).toMatch(/^<h2>ECS batch restart: ❌ failed<\/h2>/)
    expect(output).not.toContain('::debug::')
  }, 60_000)
})
