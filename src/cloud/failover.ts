import type { Logger } from '../shared/ports'
import { TransportError, isUnresolvedHost } from './errors'

/**
 * The hosts a service may be reached on, the default first. A request moves to the next host only
 * when the current one's name does not resolve (ENOTFOUND, EAI_AGAIN: nothing was sent, so even a
 * restart may go again). The first host that resolves is kept for the rest of the run.
 *
 * Only for default endpoints whose sources disagree (Huawei Cloud's European site); an endpoint
 * the user gave has no alternative.
 */
export class HostFailover {
  private index = 0
  private settled: boolean

  constructor(
    private readonly candidates: readonly URL[],
    private readonly log: Logger,
    /** Names the service in the log, e.g. "ECS". */
    private readonly service: string
  ) {
    if (candidates.length === 0) throw new Error('HostFailover needs at least one host')
    this.settled = candidates.length === 1
  }

  /** The host in use now: the default until it failed to resolve. */
  get current(): URL {
    return this.candidates[this.index]
  }

  /** Runs `send` against the current host, moving on while host names do not resolve. */
  async send<T>(send: (endpoint: URL) => Promise<T>): Promise<T> {
    for (;;) {
      const index = this.index
      const endpoint = this.candidates[index]
      try {
        const result = await send(endpoint)
        this.settle(index)
        return result
      } catch (error) {
        // Another request moved on meanwhile: try again on the host it moved to.
        if (isUnresolvedHost(error) && index !== this.index) continue
        if (this.settled || !isUnresolvedHost(error)) {
          this.settle(index)
          throw error
        }
        this.moveOn(index, error)
      }
    }
  }

  /** The host at `index` resolved (any answer, or a failure after the name was found): keep it. */
  private settle(index: number): void {
    if (this.settled || index !== this.index) return
    this.settled = true
    const note = index === 0 ? '' : ` (after ${this.hosts(0, index)} did not resolve)`
    this.log.info(
      `${this.service} host ${this.candidates[index].host} answered${note}; using it for the rest of the run.`
    )
  }

  /** The host at `index` did not resolve: the next one, or an error naming every host tried. */
  private moveOn(index: number, error: TransportError): void {
    const host = this.candidates[index].host
    if (index + 1 >= this.candidates.length) {
      throw new TransportError(
        error.what,
        `no ${this.service} host resolves (${this.hosts(0, index + 1)}; last: ${error.reason}); set 'endpoint' to your region's ${this.service} endpoint`,
        false,
        error.code
      )
    }
    this.index = index + 1
    this.log.warning(
      `${this.service} host ${host} does not resolve (${error.code ?? error.reason}), so nothing was sent to it; trying ${this.candidates[this.index].host}.`
    )
  }

  private hosts(from: number, to: number): string {
    return this.candidates
      .slice(from, to)
      .map((url) => url.host)
      .join(', ')
  }
}
