export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * A duration for people, in every log line and summary: "0.25 s", "30.6 s" under a minute (to the
 * hundredth), then rounded up: "3 min 5 s", "2 h 10 min".
 */
export function formatDuration(ms: number): string {
  if (ms < 59_995) return `${Number((Math.max(0, ms) / 1000).toFixed(2))} s`
  const seconds = Math.ceil(ms / 1000)
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`
  return minutes % 60 === 0 ? `${Math.floor(minutes / 60)} h` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

/** "1 server", "1,000 servers", "2 batches". */
export function plural(count: number, noun: string): string {
  const many = /(ch|sh|s|x)$/.test(noun) ? `${noun}es` : `${noun}s`
  return `${count.toLocaleString('en-US')} ${count === 1 ? noun : many}`
}

/**
 * The text with the user-info part of a URL hidden: `https://user:pass@host` becomes
 * `https://***@host`. Everything between the scheme and the last `@` goes, so a password holding
 * `@`, `/`, `:` or spaces cannot leak either; text with no `@` is unchanged.
 */
export function hideUserInfo(text: string): string {
  const at = text.lastIndexOf('@')
  if (at === -1) return text
  const scheme = /^\s*[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? ''
  return `${scheme}***${text.slice(at)}`
}
