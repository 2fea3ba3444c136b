import { plural } from '../shared/text'
import type { Plan } from './plan'

/** What the listing said about a server: enough to name it for people, and its state then. */
export interface ServerFacts {
  name: string
  status: string
}

/** The listed facts by server ID; empty when nothing was listed (IDs only, no filters). */
export type KnownServers = ReadonlyMap<string, ServerFacts>

/** "web-1 (6f1c2a3b…)" when the name is known, else the whole ID. */
export function serverLabel(id: string, known: KnownServers): string {
  const name = known.get(id)?.name
  return name ? `${name} (${id.slice(0, 8)}…)` : id
}

/** "web-1 (6f1c2a3b…, ACTIVE)" when listed, else the whole ID. */
export function serverLabelWithState(id: string, known: KnownServers): string {
  const facts = known.get(id)
  if (facts === undefined) return id
  return facts.name ? `${facts.name} (${id.slice(0, 8)}…, ${facts.status})` : `${id} (${facts.status})`
}

/** "web-1 (6f1c…) and web-2 (…)": the first `limit` labels, then "and N more". */
export function firstFew(labels: readonly string[], limit = 5): string {
  const shown = labels.slice(0, limit).join(', ')
  return labels.length > limit ? `${shown} and ${labels.length - limit} more` : shown
}

/** Planned servers the listing saw in another state than the operation needs. */
export function outOfState(plan: Plan, known: KnownServers, requiredState: string): string[] {
  return plan.waves
    .flat()
    .flatMap((batch) => batch.serverIds.filter((id) => (known.get(id)?.status ?? requiredState) !== requiredState))
}

/**
 * A warning about planned servers in another state than `operation` (e.g. "SOFT restart") needs:
 * the cloud fails them or refuses their batch. Undefined when there are none (or none were listed).
 */
export function outOfStateWarning(
  plan: Plan,
  known: KnownServers,
  requiredState: string,
  operation: string
): string | undefined {
  const off = outOfState(plan, known, requiredState)
  if (off.length === 0) return undefined
  const one = off.length === 1
  return `${plural(off.length, 'planned server')} ${one ? 'is' : 'are'} not ${requiredState}, which a ${operation} needs, so the cloud will fail ${one ? 'it' : 'them'} (or refuse the batch): ${firstFew(off.map((id) => serverLabelWithState(id, known)))}. Set skip-inactive: true to leave such servers out.`
}
