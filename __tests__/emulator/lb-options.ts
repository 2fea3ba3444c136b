/**
 * The load-balancing part of the emulator's vocabulary (ELB v3, Auto Scaling, the traffic model):
 * its options, route names and what it reports. Like options.ts it depends on no other module.
 *
 * Times are on the emulator clock (`EmulatorOptions.now`), in milliseconds unless the name says
 * seconds or minutes (the cloud's own units for health monitors and groups).
 */

/** A pool's health monitor (ELB v3 `healthmonitor`). */
export interface EmulatorHealthMonitor {
  /** Default `{poolId}-hm`. */
  id?: string
  /** `type`; default 'HTTP'. Only shown: every probe asks "is the server serving?". */
  type?: string
  /** `delay`, seconds between probes, 1-50. */
  delay: number
  /** `timeout`, seconds; only shown (a probe's result counts at the probe's instant). Default 3. */
  timeout?: number
  /** `max_retries`: consecutive successes that turn a member OFFLINE -> ONLINE, 1-10. */
  maxRetries: number
  /** `max_retries_down`: consecutive failures that turn it ONLINE -> OFFLINE, 1-10; default 3. */
  maxRetriesDown?: number
  /** `admin_state_up`; false: no probes, members NO_MONITOR. Default true. */
  adminStateUp?: boolean
}

/** A backend server of a pool: an ECS (member_type `instance`). */
export interface EmulatorMember {
  /** The member id (not the server id); default generated. */
  id?: string
  /** `instance_id`: the ECS id; it must be in `inventory`. */
  serverId: string
  /** Default a 10.x address derived from the server's position in the inventory. */
  address?: string
  /** Default 80. */
  protocolPort?: number
  /** 0-100, default 1. */
  weight?: number
}

export interface EmulatorPool {
  id: string
  name?: string
  /** Default 'HTTP'. */
  protocol?: string
  /**
   * Default 'ROUND_ROBIN'. Under 'SOURCE_IP' and 'QUIC_CID' the API reference says the weight "does
   * not take effect": the emulator then routes to every member alike, weight 0 included (the harsher
   * reading of conflicting sources).
   */
  lbAlgorithm?: string
  /** None: members are NO_MONITOR and always routable. */
  healthMonitor?: EmulatorHealthMonitor
  members: EmulatorMember[]
  /** Synthetic requests per second into this pool; default `loadBalancing.requestsPerSecond`. */
  requestsPerSecond?: number
  /**
   * `connection_drain` (deregistration delay, seconds 10-4000) as the API shows it; default
   * `{enable: false, timeout: 300}`. Only shown: the traffic model has no long connections.
   */
  connectionDrain?: { enable: boolean; timeout: number }
}

export interface EmulatorLoadBalancer {
  id: string
  name?: string
  /** v3 `guaranteed`: true = dedicated (default), false = shared. */
  guaranteed?: boolean
  pools: EmulatorPool[]
  /**
   * What a member at weight 0 shows: 'actual' (probes go on and show their result; the Huawei FAQ
   * for dedicated load balancers) or 'offline' (shown OFFLINE, probes stop, and once the weight is
   * raised it must pass `max_retries` probes again; the FAQ for shared ones, and OTC for both).
   * Default: 'actual' when dedicated, 'offline' when shared.
   */
  weightZeroStatus?: 'actual' | 'offline'
  /** Overrides `loadBalancing.busyMs` for this load balancer. */
  busyMs?: number
}

/** An instance of a scaling group: a server id, or with details. */
export type EmulatorScalingInstance =
  | string
  | {
      serverId: string
      /** 'auto' (default): AS created it, so removing it deletes the server; 'manual': only removed. */
      createdBy?: 'auto' | 'manual'
      /** Default 'INSERVICE'. */
      lifeCycleState?: 'INSERVICE' | 'STANDBY'
    }

export interface EmulatorScalingGroup {
  id: string
  name?: string
  instances: EmulatorScalingInstance[]
  /** Pools of the group's `lbaas_listeners`: standby unbinds from them, ELB_AUDIT reads them. */
  poolIds?: string[]
  /** Weight of the members re-created on EXIT_STANDBY (`lbaas_listeners[].weight`); default 1. */
  listenerWeight?: number
  /** `health_periodic_audit_method`; default ELB_AUDIT with `poolIds`, else NOVA_AUDIT. */
  auditMethod?: 'ELB_AUDIT' | 'NOVA_AUDIT'
  /** `health_periodic_audit_time` in minutes: 0 (every 10 s), 1, 5, 15, 60 or 180; default 5. */
  auditTimeMinutes?: number
  /** `health_periodic_audit_grace_period`, seconds after joining (ELB_AUDIT only); default 600. */
  gracePeriodSeconds?: number
  /** Starts paused (`scaling_group_status` PAUSED); default false. */
  paused?: boolean
  /**
   * Whether EXIT_STANDBY starts the instance's grace period again. Huawei does not say; the
   * default, false, is the harsh side: an instance back from standby is audited at once.
   */
  exitStandbyRestartsGrace?: boolean
}

/** Requests per sliding window, answered 429 APIG.0308 beyond it. */
export interface RequestRateLimit {
  requests: number
  windowMs: number
}

export interface LoadBalancingOptions {
  /** ELB v3 load balancers with their pools, members and health monitors; default none. */
  loadBalancers?: EmulatorLoadBalancer[]
  /** Auto Scaling groups; default none. */
  scalingGroups?: EmulatorScalingGroup[]
  loadBalancing?: {
    /**
     * After every accepted member update, the load balancer is PENDING_UPDATE for this long and
     * answers member updates 409 ELB.8907; default 1000.
     */
    busyMs?: number
    /** A weight change steers traffic only this long after it was accepted ("within 5 s"); default 5000. */
    weightApplyMs?: number
    /** A server serves this long after it turned ACTIVE (its boot); default 0. */
    bootDelayMs?: number
    /** Per-server `bootDelayMs`. */
    serverBootDelayMs?: Record<string, number>
    /** Synthetic requests per second into every pool; default 0 (no traffic). */
    requestsPerSecond?: number
    /** Throttling of the ELB routes and, separately, of the AS routes; default none. */
    rateLimit?: RequestRateLimit
  }
}

export type LoadBalancingRouteName =
  | 'elb-loadbalancers'
  | 'elb-loadbalancer'
  | 'elb-statuses'
  | 'elb-pools'
  | 'elb-pool'
  | 'elb-members'
  | 'elb-member'
  | 'elb-member-update'
  | 'elb-members-batch-update'
  | 'elb-healthmonitor'
  | 'as-groups'
  | 'as-group'
  | 'as-group-action'
  | 'as-instances'
  | 'as-instances-action'

/** What a pool's synthetic traffic met so far. */
export interface PoolTraffic {
  sent: number
  served: number
  /** Routed to a server that was not serving at that instant, or to no member at all. */
  dropped: number
  /** Of `dropped`: no member was routable. */
  unroutable: number
  /** Per server id: requests it served and requests lost on it. */
  servers: Record<string, { served: number; dropped: number }>
}

/** One sample of a pool, taken at each of its probe instants (every second without a monitor). */
export interface PoolSample {
  at: number
  /** Members the API shows ONLINE with weight > 0: what the action counts. */
  healthy: number
  /** Members the load balancer routes to whose server is serving: what users get. */
  serving: number
}

/** An instance Auto Scaling took out of its group. */
export interface ScalingRemoval {
  groupId: string
  serverId: string
  at: number
  /** Why it was unhealthy, e.g. 'ELB_AUDIT: member … OFFLINE'. */
  reason: string
  /** True when the server was deleted too (an instance AS had created). */
  deleted: boolean
}
