/** What one look at a job says about the servers of its batch. */
export interface JobObservation {
  /** The job's status as the cloud wrote it, or `UNKNOWN` when it wrote none. */
  status: string
  finished: boolean
  succeeded: string[]
  failed: { id: string; code: string | null; message: string | null }[]
  /** Server IDs in the job's sub-jobs that were never part of this batch. */
  strangers: string[]
}

const FINISHED = new Set(['SUCCESS', 'FAIL'])

type Json = Record<string, unknown>

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined
}

function asString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

/**
 * Reads `GET /v1/{project_id}/jobs/{job_id}` defensively: each server's outcome comes from its
 * own sub-job; once the job has finished, servers it says nothing about take the job's result.
 */
export function interpretJob(document: unknown, batch: readonly string[]): JobObservation {
  const job = asObject(document) ?? {}
  const status = asString(job.status) ?? 'UNKNOWN'
  const finished = FINISHED.has(status)
  const members = new Set(batch)
  const verdicts = new Map<string, { code: string | null; message: string | null } | 'succeeded'>()
  const strangers: string[] = []

  const subJobs = asObject(job.entities)?.sub_jobs
  for (const item of Array.isArray(subJobs) ? subJobs : []) {
    const subJob = asObject(item)
    const entities = asObject(subJob?.entities)
    const serverId = asString(entities?.server_id)
    if (subJob === undefined || serverId === null) continue
    if (!members.has(serverId)) {
      strangers.push(serverId)
      continue
    }
    if (subJob.status === 'SUCCESS') verdicts.set(serverId, 'succeeded')
    if (subJob.status === 'FAIL') {
      verdicts.set(serverId, {
        code: asString(subJob.error_code) ?? asString(job.error_code),
        message: asString(subJob.fail_reason) ?? asString(entities?.errorcode_message) ?? asString(job.fail_reason)
      })
    }
  }

  if (finished) {
    const jobFailure = {
      code: asString(job.error_code),
      message: asString(job.fail_reason) ?? 'The job failed without a sub-job for this server.'
    }
    for (const id of batch) {
      if (!verdicts.has(id)) verdicts.set(id, status === 'SUCCESS' ? 'succeeded' : jobFailure)
    }
  }

  const succeeded: string[] = []
  const failed: JobObservation['failed'] = []
  for (const [id, verdict] of verdicts) {
    if (verdict === 'succeeded') succeeded.push(id)
    else failed.push({ id, ...verdict })
  }
  return { status, finished, succeeded, failed, strangers }
}
