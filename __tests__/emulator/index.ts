/**
 * A loopback emulator of the two Huawei Cloud ECS endpoints the action uses
 * (batch power action and job query) plus the IAM project lookup, and, for the
 * benchmark's per-server contender, the Nova reboot and show-server routes.
 *
 * It is a real `node:http` server on 127.0.0.1 that verifies every request's
 * SDK-HMAC-SHA256 signature, keeps jobs whose progress follows an injectable
 * clock, counts restarts per server, and can be told to misbehave
 * (error answers, socket resets, hangs, delays) one request at a time, or to
 * reject every batch that names certain servers.
 *
 * For benchmarks it can also model the real cloud's timing: a latency added to
 * every request (`latencyMs`) and the documented restart rate limit
 * (`rateLimit`), answered with the gateway's throttling response; `counters()`
 * and `recordRequests: false` keep long runs light.
 *
 * For token authentication it also issues real IAM tokens: by password
 * (`POST /v3/auth/tokens`, users in `iamUsers`) and by federation with an OIDC
 * ID token (`POST /v3.0/OS-AUTH/id-token/tokens`, providers in
 * `identityProviders`, the JWT's RS256 signature and claims verified for real); and temporary
 * access keys for such a token (`POST /v3.0/OS-CREDENTIAL/securitytokens`), which sign requests
 * with `X-Security-Token` until they expire by the emulator clock.
 * Every route that takes an AK/SK signature also takes such a token as
 * `X-Auth-Token` (without an `Authorization` header). And it can stand in for
 * GitHub's OIDC token service (`GET /_github/oidc/token`, `githubOidc`), which
 * is what `@actions/core`'s `getIDToken()` calls.
 *
 * This module is the one tests import. It wires the services into the HTTP core:
 * - core.ts: routing, recording, faults, latency, closing (no service knowledge);
 * - auth.ts + signature.ts: AK/SK signatures (own implementation) and token authentication;
 * - ecs.ts, inventory.ts, fleet.ts, rate-limit.ts: the ECS routes and the servers they act on;
 * - nova.ts: the Nova routes; iam.ts + jwt.ts + security-tokens.ts: IAM; github-oidc.ts: GitHub's OIDC token service;
 * - options.ts, http.ts: the public types and constants, the error shapes.
 */
import { createGuard } from './auth'
import { AutoScalingService } from './autoscaling'
import { EmulatorCore, type AnyRouteName } from './core'
import { EcsService } from './ecs'
import { ElbService } from './elb'
import { Fleet } from './fleet'
import { githubOidcRoute } from './github-oidc'
import { IamService } from './iam'
import { LoadBalancing, type LoadBalancingView } from './load-balancing'
import { novaRoutes } from './nova'
import { TemporaryKeys } from './security-tokens'
import {
  DEFAULT_CREDENTIALS,
  DEFAULT_PROJECTS,
  GITHUB_OIDC_PATH,
  validateOptions,
  type EmulatorCounters,
  type EmulatorGithubOidc,
  type EmulatorOptions,
  type Fault,
  type RecordedRequest
} from './options'
import { SignatureVerifier } from './signature'

export * from './options'
export type { LoadBalancingView } from './load-balancing'
export { ecsError, gatewayError, iamError, keystoneError } from './http'

export class EcsEmulator {
  readonly url: string
  readonly requests: RecordedRequest[]
  /** The ELB and Auto Scaling model: traffic counters, pool samples, AS removals (lb-options.ts). */
  readonly loadBalancing: LoadBalancingView

  private constructor(
    private readonly core: EmulatorCore,
    world: LoadBalancing,
    private readonly fleet: Fleet,
    private readonly ecs: EcsService,
    private readonly iam: IamService,
    private readonly temporaryKeys: TemporaryKeys,
    private readonly githubOidc: EmulatorGithubOidc | undefined
  ) {
    this.url = core.url
    this.requests = core.requests
    this.loadBalancing = world.view()
  }

  static async start(options: EmulatorOptions = {}): Promise<EcsEmulator> {
    validateOptions(options)
    const now = options.now ?? Date.now
    const fleet = new Fleet(options, now)
    const ecs = new EcsService(fleet)
    let origin = ''
    const iam = new IamService(options, now, () => origin)
    const temporaryKeys = new TemporaryKeys(iam, now, options)
    const signatures = new SignatureVerifier(options.credentials ?? DEFAULT_CREDENTIALS, now, (accessKeyId) =>
      temporaryKeys.lookup(accessKeyId)
    )
    // Load balancing (ELB v3, Auto Scaling, traffic): replays its clock before every request.
    const world = new LoadBalancing(options, fleet.inventory, now)
    const projectId = Object.values(options.projects ?? DEFAULT_PROJECTS)[0]
    const elb = new ElbService(world, () => projectId, options.loadBalancing?.rateLimit)
    const autoscaling = new AutoScalingService(options.scalingGroups ?? [], world, options.loadBalancing?.rateLimit)
    const core = new EmulatorCore(createGuard(signatures, iam), { ...options, beforeProcess: () => world.advance() })
    core.addRoutes([
      ...ecs.routes(),
      ...novaRoutes(fleet),
      ...iam.routes(),
      temporaryKeys.route(),
      githubOidcRoute(options.githubOidc, now)
    ])
    core.addRoutes([...elb.routes(), ...autoscaling.routes()])
    await core.listen(options.port)
    origin = core.url
    return new EcsEmulator(core, world, fleet, ecs, iam, temporaryKeys, options.githubOidc)
  }

  /** Queues faults for a route; each matching request consumes one, in order. */
  inject(route: AnyRouteName, ...faults: Fault[]): void {
    this.core.inject(route, ...faults)
  }

  /** Faults still queued for a route. */
  pendingFaults(route: AnyRouteName): number {
    return this.core.pendingFaults(route)
  }

  /** Every token issued so far (the `X-Subject-Token` values), in issue order, expired ones included. */
  issuedTokens(): string[] {
    return this.iam.issuedTokens()
  }

  /**
   * Every temporary key issued by `POST /v3.0/OS-CREDENTIAL/securitytokens` (route 'securitytokens'),
   * in issue order, expired ones included; requests signed with one are refused once it expired.
   */
  issuedTemporaryKeys(): { accessKeyId: string; secretAccessKey: string; securityToken: string; expiresAt: number }[] {
    return this.temporaryKeys.issued()
  }

  /**
   * Makes every token issued so far expired at once (requests with them get 401 APIG.0307), e.g. a
   * token that expires mid-run. Tokens issued afterwards are not affected.
   */
  expireTokens(): void {
    this.iam.expireTokens()
  }

  /**
   * The environment that points `@actions/core`'s `getIDToken()` at this emulator:
   * `ACTIONS_ID_TOKEN_REQUEST_URL` (`{url}/_github/oidc/token?api-version=2.0`; getIDToken appends
   * `&audience=…`) and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. Throws unless `githubOidc` is set.
   */
  githubOidcEnv(): { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string } {
    if (!this.githubOidc) throw new Error('githubOidc is not set in the emulator options')
    return {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${this.url}${GITHUB_OIDC_PATH}?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.githubOidc.requestToken
    }
  }

  /** How many accepted submit requests included this server; a rejected request counts for none. */
  restartCount(serverId: string): number {
    return this.fleet.restartCount(serverId)
  }

  /** Job ids created, in order. */
  jobIds(): string[] {
    return this.ecs.jobIds()
  }

  /** Counts of requests, outcomes, throttled answers and restarts so far (a copy). */
  counters(): EmulatorCounters {
    return {
      ...this.core.counters(),
      throttled: this.fleet.limiter.throttled,
      restarts: this.fleet.restartsTotal,
      restartedServers: this.fleet.restartedServers()
    }
  }

  /** Sets an inventory server's state now, e.g. a server that stops between listing and restart. */
  setServerStatus(serverId: string, status: string): void {
    this.fleet.inventory.setStatus(serverId, status)
  }

  close(): Promise<void> {
    return this.core.close()
  }
}
