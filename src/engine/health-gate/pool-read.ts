import type { ElbMember } from '../../cloud/elb'
import { ApiError } from '../../cloud/errors'
import type { ElbPort } from './types'

/** An ELB answer saying the member or pool no longer exists. */
export const isGone = (error: unknown): boolean =>
  error instanceof ApiError && (error.status === 404 || error.code === 'ELB.2012' || error.code === 'ELB.8904')

/** A pool's members, or undefined when the pool itself no longer exists (someone deleted it). */
export async function readMembers(elb: ElbPort, poolId: string, giveUpAt: number): Promise<ElbMember[] | undefined> {
  try {
    return await elb.members(poolId, giveUpAt)
  } catch (error) {
    if (isGone(error)) return undefined
    throw error
  }
}
