export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A duration for people: "0.25 s", "7.5 s", "12 s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`
}

/** "1 server", "1,000 servers", "2 batches". */
export function plural(count: number, noun: 'server' | 'batch' | 'wave'): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : noun === 'batch' ? 'es' : 's'}`
}
