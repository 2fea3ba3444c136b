import { InputError } from '../errors'
import { type InputSource, type Problems, trimmedInput } from './source'
import { type Amount, parseAmount, parseBoolean, parseBooleanOrAuto, parseInteger, parseSeconds } from './values'

export const MAX_BATCH_SIZE = 1000
export const MAX_TIMEOUT_SECONDS = 6 * 60 * 60
const MAX_POLL_INTERVAL_SECONDS = 300
const MAX_REQUEST_TIMEOUT_SECONDS = 300
/** The documented batch restart limit; accounts with other quotas set their own. */
const DEFAULT_SERVERS_PER_MINUTE = 1000
const MAX_SERVERS_PER_MINUTE = 1_000_000

/** How the work is cut up, paced and waited for. */
export interface PacingInputs {
  batchSize: Amount
  rolling: boolean
  /** After each job, wait until its servers report the operation's target state. */
  waitForTargetState: boolean
  pauseMs: number
  maxFailures: Amount
  maxServersPerMinute: number
  wait: boolean
  timeoutMs: number
  pollIntervalMs: number
  requestTimeoutMs: number
}

function readWaves(
  source: InputSource,
  problems: Problems
): Pick<PacingInputs, 'batchSize' | 'rolling' | 'waitForTargetState' | 'pauseMs' | 'maxFailures'> {
  const input = (name: string): string => trimmedInput(source, name)
  const rolling = problems.check(() => parseBoolean('rolling', input('rolling'), false))
  return {
    batchSize: problems.check(() => parseAmount('batch-size', input('batch-size'), MAX_BATCH_SIZE, 1, MAX_BATCH_SIZE)),
    rolling,
    waitForTargetState: problems.check(() => parseBooleanOrAuto('wait-for-active', input('wait-for-active'), rolling)),
    pauseMs: problems.check(() =>
      parseSeconds('pause-seconds', input('pause-seconds'), 0, { allowZero: true, max: MAX_TIMEOUT_SECONDS })
    ),
    maxFailures: problems.check(() => parseAmount('max-failures', input('max-failures'), 0, 0, 1_000_000))
  }
}

function readTimes(
  source: InputSource,
  problems: Problems
): Pick<PacingInputs, 'maxServersPerMinute' | 'wait' | 'timeoutMs' | 'pollIntervalMs' | 'requestTimeoutMs'> {
  const input = (name: string): string => trimmedInput(source, name)
  return {
    maxServersPerMinute: problems.check(() =>
      parseInteger(
        'max-servers-per-minute',
        input('max-servers-per-minute'),
        DEFAULT_SERVERS_PER_MINUTE,
        1,
        MAX_SERVERS_PER_MINUTE
      )
    ),
    wait: problems.check(() => parseBoolean('wait', input('wait'), true)),
    timeoutMs: problems.check(() =>
      // 0 would fail every server as not submitted: at least a second, for signing in and one request.
      parseSeconds('timeout-seconds', input('timeout-seconds'), 600, {
        allowZero: false,
        min: 1,
        max: MAX_TIMEOUT_SECONDS
      })
    ),
    pollIntervalMs: problems.check(() =>
      parseSeconds('poll-interval-seconds', input('poll-interval-seconds'), 5, {
        allowZero: false,
        max: MAX_POLL_INTERVAL_SECONDS
      })
    ),
    requestTimeoutMs: problems.check(() =>
      parseSeconds('request-timeout-seconds', input('request-timeout-seconds'), 30, {
        allowZero: false,
        max: MAX_REQUEST_TIMEOUT_SECONDS
      })
    )
  }
}

/** `batch-size`, `rolling`, `wait-for-active`, `pause-seconds`, `max-failures`, the pace, waiting and the time limits. */
export function readPacing(source: InputSource, problems: Problems): PacingInputs {
  const pacing = { ...readWaves(source, problems), ...readTimes(source, problems) }
  problems.check(() => {
    if (pacing.rolling && !pacing.wait) {
      throw new InputError('rolling', 'needs wait: true, since each wave must finish before the next starts')
    }
    if (!pacing.wait && trimmedInput(source, 'wait-for-active').toLowerCase() === 'true') {
      throw new InputError('wait-for-active', 'needs wait: true, since servers are checked once their job has finished')
    }
  })
  return pacing
}
