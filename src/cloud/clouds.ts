export type CloudName = 'huaweicloud' | 'huaweicloud-eu' | 'otc'

interface CloudPreset {
  title: string
  regions: string[]
  /** The ECS host, then any other host the sources give for it, tried only when it does not resolve. */
  ecs(region: string): string[]
  iam(region: string): string
  /** The ELB (v3) and Auto Scaling hosts, for health-gated restarts. */
  elb(region: string): string
  as(region: string): string
}

/**
 * Huawei Cloud regions with no IAM host in the SDKs' IAM region tables (Node `IamRegion.ts`, Go
 * `iam_endpoint.go`); the SDKs use the global host for them. Every other region has
 * `iam.{region}.myhuaweicloud.com`.
 */
const NO_REGIONAL_IAM = new Set(['af-north-1', 'ap-southeast-5', 'cn-north-11', 'cn-south-4', 'cn-southwest-3'])
/** The SDKs' `DEFAULT_IAM_ENDPOINT`: IAM accepts every call on it, whatever the region. */
const GLOBAL_IAM = 'https://iam.myhuaweicloud.com'

/**
 * Default endpoints per cloud. Huawei Cloud's regions are those of its SDKs' ECS region tables;
 * the European site (eu-west-101) has its own domain; Open Telekom Cloud's Swiss region uses an
 * `sc.` subdomain and, for IAM, the `iam-pub` host. The README cites the sources.
 */
const CLOUDS: Record<CloudName, CloudPreset> = {
  huaweicloud: {
    title: 'Huawei Cloud',
    regions: [
      'af-north-1',
      'af-south-1',
      'ae-ad-1',
      'ap-southeast-1',
      'ap-southeast-2',
      'ap-southeast-3',
      'ap-southeast-4',
      'ap-southeast-5',
      'cn-east-2',
      'cn-east-3',
      'cn-east-4',
      'cn-east-5',
      'cn-north-1',
      'cn-north-2',
      'cn-north-4',
      'cn-north-9',
      'cn-north-11',
      'cn-north-12',
      'cn-south-1',
      'cn-south-2',
      'cn-south-4',
      'cn-southwest-2',
      'cn-southwest-3',
      'eu-west-0',
      'la-north-2',
      'la-south-2',
      'me-east-1',
      'my-kualalumpur-1',
      'na-mexico-1',
      'ru-moscow-1',
      'sa-brazil-1',
      'tr-west-1'
    ],
    ecs: (region) => [`https://ecs.${region}.myhuaweicloud.com`],
    iam: (region) => (NO_REGIONAL_IAM.has(region) ? GLOBAL_IAM : `https://iam.${region}.myhuaweicloud.com`),
    // The Go SDK's ELB v3 and AS v1 region tables; AS has one host on another domain.
    elb: (region) => `https://elb.${region}.myhuaweicloud.com`,
    as: (region) =>
      region === 'ap-southeast-1'
        ? 'https://as.ap-southeast-1.myhwclouds.com'
        : `https://as.${region}.myhuaweicloud.com`
  },
  'huaweicloud-eu': {
    title: "Huawei Cloud's European site",
    regions: ['eu-west-101'],
    // Terraform and the site's other services say `.eu`; the SDKs' ECS tables say `.com`.
    ecs: (region) => [`https://ecs.${region}.myhuaweicloud.eu`, `https://ecs.${region}.myhuaweicloud.com`],
    iam: (region) => `https://iam.${region}.myhuaweicloud.eu`,
    elb: (region) => `https://elb.${region}.myhuaweicloud.eu`,
    as: (region) => `https://as.${region}.myhuaweicloud.eu`
  },
  otc: {
    title: 'Open Telekom Cloud',
    regions: ['eu-de', 'eu-nl', 'eu-ch2'],
    ecs: (region) => [
      region === 'eu-ch2' ? 'https://ecs.eu-ch2.sc.otc.t-systems.com' : `https://ecs.${region}.otc.t-systems.com`
    ],
    iam: (region) =>
      region === 'eu-ch2' ? 'https://iam-pub.eu-ch2.sc.otc.t-systems.com' : `https://iam.${region}.otc.t-systems.com`,
    elb: (region) =>
      region === 'eu-ch2' ? 'https://elb.eu-ch2.sc.otc.t-systems.com' : `https://elb.${region}.otc.t-systems.com`,
    as: (region) =>
      region === 'eu-ch2' ? 'https://as.eu-ch2.sc.otc.t-systems.com' : `https://as.${region}.otc.t-systems.com`
  }
}

export const CLOUD_NAMES = Object.keys(CLOUDS) as CloudName[]

/** The cloud's name for people, and the regions it has default endpoints for. */
export function describeCloud(cloud: CloudName): { title: string; regions: readonly string[] } {
  return CLOUDS[cloud]
}

/** A cloud's default endpoints for a region: `ecsAlternatives` are tried, in order, when `ecs` does not resolve. */
export interface DefaultEndpoints {
  ecs: URL
  ecsAlternatives: URL[]
  iam: URL
  elb: URL
  as: URL
}

/** The cloud's default endpoints when it knows the region, else undefined. */
export function knownEndpoints(cloud: CloudName, region: string): DefaultEndpoints | undefined {
  const preset = CLOUDS[cloud]
  if (!preset.regions.includes(region)) return undefined
  const [ecs, ...ecsAlternatives] = preset.ecs(region).map((host) => new URL(host))
  return {
    ecs,
    ecsAlternatives,
    iam: new URL(preset.iam(region)),
    elb: new URL(preset.elb(region)),
    as: new URL(preset.as(region))
  }
}

/**
 * Where GitHub OIDC sign-in goes unless `iam-endpoint` says otherwise. On Huawei Cloud it is the
 * global IAM host, as in both SDKs (federation works there for every region); the European site
 * and Open Telekom Cloud are separate account systems, so their own IAM host for the region.
 */
export function federationIamEndpoint(cloud: CloudName, region: string | undefined): URL | undefined {
  if (cloud === 'huaweicloud') return new URL(GLOBAL_IAM)
  return region === undefined ? undefined : knownEndpoints(cloud, region)?.iam
}
