'use strict'
/**
 * The benchmark's SDK peer: restarts servers with the official Huawei Cloud Node.js SDK
 * (`BatchRebootServers` + `ShowJob`) the way its docs and the Terraform provider do it: batches
 * of up to 1000 in sequence, each job polled at a fixed interval until it is done, then the next
 * batch. No retries (the SDK has none): the first error ends the run.
 *
 * Configured by environment variables (all set by bench/run.ts):
 *   HWC_ENDPOINT, HWC_PROJECT_ID, HWC_AK, HWC_SK  where and as whom
 *   IDS_FILE      server IDs, one per line
 *   TYPE          SOFT (default) or HARD
 *   BATCH         servers per request (default 1000)
 *   POLL_MS       fixed interval between job checks (default 1000)
 *   JOB_TIMEOUT_MS  give up on one job after this long (default 180000, Terraform's 3 minutes)
 *   RESULT_FILE   where to write the JSON summary (also printed as the last stdout line)
 *   COLD_START=1  load the SDK, build the client and exit (the cold-start measurement)
 */
const { readFileSync, writeFileSync } = require('node:fs')

const started = Date.now()
const core = require('@huaweicloud/huaweicloud-sdk-core')
const ecs = require('@huaweicloud/huaweicloud-sdk-ecs')

// Loading the SDK configures log4js to dump every error (with the whole request config,
// Authorization header included) to stdout in colour. Switch that logger off.
const log4js = require(require.resolve('log4js', { paths: [require.resolve('@huaweicloud/huaweicloud-sdk-core')] }))
log4js.configure({
  appenders: { out: { type: 'stdout' } },
  categories: { default: { appenders: ['out'], level: 'off' } }
})

const env = process.env
const client = ecs.EcsClient.newBuilder()
  .withCredential(new core.BasicCredentials().withAk(env.HWC_AK).withSk(env.HWC_SK).withProjectId(env.HWC_PROJECT_ID))
  .withEndpoint(env.HWC_ENDPOINT)
  // A custom user agent keeps build() from writing ~/.huaweicloud/application_id.
  .withOptions({ customUserAgent: 'ecs-batch-restart-bench' })
  .build()
const loadedMs = Date.now() - started

function finish(summary) {
  const line = JSON.stringify({ ...summary, loadedMs, totalMs: Date.now() - started })
  if (env.RESULT_FILE) writeFileSync(env.RESULT_FILE, line)
  process.stdout.write(`${line}\n`)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main() {
  if (env.COLD_START === '1') {
    finish({ ok: true, coldStart: true })
    return
  }
  const ids = readFileSync(env.IDS_FILE, 'utf8').split('\n').filter(Boolean)
  const type = env.TYPE || 'SOFT'
  const batchSize = Number(env.BATCH || 1000)
  const pollMs = Number(env.POLL_MS || 1000)
  const jobTimeoutMs = Number(env.JOB_TIMEOUT_MS || 180000)
  const summary = { ok: false, n: ids.length, batches: 0, calls: 0, errors: 0, succeeded: 0, failed: 0, error: null }
  try {
    for (let start = 0; start < ids.length; start += batchSize) {
      const servers = ids.slice(start, start + batchSize).map((id) => new ecs.ServerId().withId(id))
      const request = new ecs.BatchRebootServersRequest().withBody(
        new ecs.BatchRebootServersRequestBody().withReboot(
          new ecs.BatchRebootSeversOption().withServers(servers).withType(type)
        )
      )
      summary.calls++
      const accepted = await client.batchRebootServers(request)
      // The SDK hands back the parsed JSON body: snake_case fields, whatever its typings say.
      const jobId = accepted.job_id ?? accepted.jobId
      summary.batches++
      const deadline = Date.now() + jobTimeoutMs
      for (;;) {
        await sleep(pollMs)
        summary.calls++
        const job = await client.showJob(new ecs.ShowJobRequest().withJobId(jobId))
        if (job.status === 'SUCCESS' || job.status === 'FAIL') {
          const entities = job.entities || {}
          for (const sub of entities.sub_jobs || entities.subJobs || []) {
            if (sub.status === 'SUCCESS') summary.succeeded++
            else summary.failed++
          }
          break
        }
        if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} after ${jobTimeoutMs} ms`)
      }
    }
    summary.ok = summary.failed === 0
  } catch (error) {
    summary.errors++
    summary.error = {
      status: error.httpStatusCode ?? null,
      code: error.errorCode ?? null,
      message: String(error.errorMsg ?? error.message ?? error).slice(0, 300)
    }
  }
  finish(summary)
  process.exitCode = summary.ok ? 0 : 1
}

main().catch((error) => {
  process.stderr.write(`peer: ${error && error.stack ? error.stack : String(error)}\n`)
  process.exitCode = 2
})
