import type { BatchRun } from '../engine/batch-run'
import type { KnownServers } from '../engine/known'
import type { Results } from '../engine/ledger'
import type { Plan } from '../engine/plan'
import { errorMessage } from '../shared/text'
import type { ActionIO } from './action-io'
import type { GateOutputs } from './health-gate-report'
import {
  type RunStatus,
  type SummaryContext,
  batchAnnotations,
  batchLogGroups,
  buildOutputs,
  countOutcomes,
  jsonPieces,
  renderSummary
} from './report'

/** GitHub keeps at most 1 MB of one step output. */
const OUTPUT_SIZE_LIMIT = 1_000_000

export interface RunRecord {
  results: Results
  runs: BatchRun[]
  plan: Plan | undefined
  status: RunStatus
  /** Names and states of the servers the run listed, to name them in the report. */
  known: KnownServers
  /** The state the operation needs, to flag planned servers in another one. */
  requiredState: string
  /** health-gate: elb only. */
  gate?: GateOutputs
}

function writeOutputs(record: RunRecord, io: ActionIO): void {
  let resultsFile = ''
  try {
    resultsFile = io.writeTempFile('results.json', jsonPieces(record.results.values()))
  } catch (error) {
    io.log.warning(`The results file could not be written: ${errorMessage(error)}`)
  }
  for (const [name, pieces] of buildOutputs(
    record.results,
    record.runs,
    record.status,
    record.plan,
    resultsFile,
    record.gate
  )) {
    const bytes = io.setOutput(name, pieces)
    if (bytes > OUTPUT_SIZE_LIMIT) {
      io.log.warning(
        `The '${name}' output is ${(bytes / 1e6).toFixed(1)} MB, over GitHub's 1 MB limit for one output, so later steps may not get it. Read the file named by the 'results-file' output instead, or restart fewer servers per step.`
      )
    }
  }
}

/** The log groups, annotations, outputs, results file and job summary of a finished run. */
export async function publish(record: RunRecord, context: SummaryContext, io: ActionIO): Promise<void> {
  const { results, runs, status, known } = record
  for (const group of batchLogGroups(runs, results, known)) io.log.group(group.title, group.lines)
  for (const annotation of batchAnnotations(runs, results, known)) io.log.error(annotation.message, annotation.title)
  writeOutputs(record, io)
  try {
    const details = {
      plan: record.plan,
      known,
      requiredState: record.requiredState,
      sections: record.gate && [record.gate.summary]
    }
    await io.writeSummary(renderSummary(results, runs, status, context, details))
  } catch (error) {
    io.log.warning(`The job summary could not be written: ${errorMessage(error)}`)
  }
  const counts = countOutcomes(results)
  io.log.info(
    `Finished with status ${status}: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.pending} pending.`
  )
}
