export interface Batch {
  /** 1-based, in submission order across all waves. */
  number: number
  serverIds: string[]
}

/** Batches in one wave are submitted back to back; a wave finishes before the next starts. */
export interface Plan {
  waves: Batch[][]
  batchCount: number
}

/**
 * Splits the servers, in order, into batches of at most `batchSize`: all in one wave, or with
 * `rolling` one batch per wave, so each batch finishes before the next begins.
 */
export function planBatches(serverIds: readonly string[], batchSize: number, rolling = false): Plan {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batch size must be a positive integer, got ${batchSize}`)
  }
  const batches: Batch[] = []
  for (let start = 0; start < serverIds.length; start += batchSize) {
    batches.push({ number: batches.length + 1, serverIds: serverIds.slice(start, start + batchSize) })
  }
  const waves = rolling ? batches.map((batch) => [batch]) : batches.length > 0 ? [batches] : []
  return { waves, batchCount: batches.length }
}

/** The plan as the `plan` output shows it: one entry per batch. */
export function describePlan(plan: Plan): { wave: number; batch: number; server_ids: string[] }[] {
  return plan.waves.flatMap((wave, index) =>
    wave.map((batch) => ({ wave: index + 1, batch: batch.number, server_ids: batch.serverIds }))
  )
}
