import type { Operation, OperationKind, PowerType } from '../../cloud/server-action'
import { InputError } from '../errors'
import { type InputSource, type Problems, quoted, trimmedInput } from './source'

const OPERATIONS: OperationKind[] = ['reboot', 'start', 'stop']

function parseOperation(text: string): OperationKind {
  const operation = (text || 'reboot').toLowerCase() as OperationKind
  if (!OPERATIONS.includes(operation)) {
    throw new InputError('operation', `${quoted(text)} is not allowed; use reboot, start or stop`)
  }
  return operation
}

export function parsePowerType(text: string): PowerType {
  const type = (text || 'SOFT').toUpperCase()
  if (type !== 'SOFT' && type !== 'HARD') {
    throw new InputError('type', `${quoted(text)} is not allowed; use SOFT (a normal restart) or HARD (forced)`)
  }
  return type
}

/** `operation` and `type`. */
export function readOperation(source: InputSource, problems: Problems): Operation {
  return {
    kind: problems.check(() => parseOperation(trimmedInput(source, 'operation'))),
    type: problems.check(() => parsePowerType(trimmedInput(source, 'type')))
  }
}
