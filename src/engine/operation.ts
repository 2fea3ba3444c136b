import type { Operation, OperationKind } from '../cloud/server-action'

/** The state a server reports once the operation has taken effect. */
export const TARGET_STATE: Record<OperationKind, string> = { reboot: 'ACTIVE', start: 'ACTIVE', stop: 'SHUTOFF' }

/** The state a server must be in for the operation to make sense (`skip-inactive`). */
export const REQUIRED_STATE: Record<OperationKind, string> = { reboot: 'ACTIVE', stop: 'ACTIVE', start: 'SHUTOFF' }

/** E.g. "SOFT restart", "start", "HARD stop". */
export function describeOperation(operation: Operation): string {
  if (operation.kind === 'start') return 'start'
  return `${operation.type} ${operation.kind === 'reboot' ? 'restart' : 'stop'}`
}
