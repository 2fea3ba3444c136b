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

/** Splits the servers, in order, into batches of at most `batchSize`, all in one wave. */
export function planBatches(serverIds: readonly string[], batchSize: number): Plan {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batch size must be a positive integer, got ${batchSize}`)
  }
  const batches: Batch[] = []
  for (let start = 0; start < serverIds.length; start += batchSize) {
    batches.push({ number: batches.length + 1, serverIds: serverIds.slice(start, start + batchSize) })
  }
  return { waves: batches.length > 0 ? [batches] : [], batchCount: batches.length }
}
