export type RestartType = 'SOFT' | 'HARD'

/** What to do to each server. Restart only, for now; start and stop use the same endpoint. */
export interface Operation {
  kind: 'reboot'
  type: RestartType
}

/** The body of `POST /v1/{project_id}/cloudservers/action` for these servers. */
export function actionBody(operation: Operation, serverIds: readonly string[]): object {
  const servers = serverIds.map((id) => ({ id }))
  return { [operation.kind]: { type: operation.type, servers } }
}

export function describeOperation(operation: Operation): string {
  return `${operation.type} restart`
}
