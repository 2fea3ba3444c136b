/** Number and table formatting shared by the bench's reports. */

export const thousands = (value: number): string => Math.round(value).toLocaleString('en-US')

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  if (ms >= 100_000) return `${(ms / 1000).toFixed(0)} s`
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`
  return `${(ms / 1000).toFixed(2)} s`
}

export function formatCount(value: number): string {
  return Number.isInteger(value) ? thousands(value) : value.toFixed(1)
}

export function mib(kb: number | undefined): string {
  return kb === undefined ? '—' : `${(kb / 1024).toFixed(0)} MiB`
}

/** "yes", "**no**" or "**2/3**": how many of the runs passed. */
export function yesNo(count: number, total: number): string {
  if (count === total) return total === 1 ? 'yes' : `yes (${total}/${total})`
  if (count === 0) return total === 1 ? '**no**' : `**no** (0/${total})`
  return `**${count}/${total}**`
}

export function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}
