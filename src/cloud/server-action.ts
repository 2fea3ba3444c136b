export type PowerType = 'SOFT' | 'HARD'
export type OperationKind = 'reboot' | 'start' | 'stop'

/** What to do to each server: all three use `POST /v1/{project_id}/cloudservers/action`. */
export interface Operation {
  kind: OperationKind
  /** For reboot and stop; start has none. */
  type: PowerType
}

const BODY_KEYS: Record<OperationKind, string> = { reboot: 'reboot', start: 'os-start', stop: 'os-stop' }

/** The body of `POST /v1/{project_id}/cloudservers/action` for these servers. */
export function actionBody(operation: Operation, serverIds: readonly string[]): object {
  const servers = serverIds.map((id) => ({ id }))
  const body = operation.kind === 'start' ? { servers } : { type: operation.type, servers }
  return { [BODY_KEYS[operation.kind]]: body }
}
