/**
 * How the routes that are not identity routes authenticate: an AK/SK signature (`Authorization`),
 * or else an IAM token this emulator issued (`X-Auth-Token`); and, on the project routes
 * (`/v1/{project_id}/…`, `/v2.1/{project_id}/…`), whether the request may use that project.
 */
import type { IncomingMessage } from 'node:http'
import type { Guard, Verification } from './core'
import { ecsError, headerValue, type Reply } from './http'
import type { IamService } from './iam'
import type { SignatureVerifier } from './signature'

export function createGuard(signatures: SignatureVerifier, iam: IamService): Guard {
  return {
    authenticate(req: IncomingMessage, url: URL, body: string): Verification {
      const authorization = headerValue(req.headers, 'authorization')
      if (authorization !== undefined) return signatures.verify(req, url, body, authorization)
      const token = headerValue(req.headers, 'x-auth-token')
      if (token !== undefined) return iam.verifyToken(token)
      return { ok: false, message: 'Incorrect IAM authentication information: x-auth-token not found', by: 'none' }
    },

    checkProject(projectId: string, req: IncomingMessage, verification: Verification): Reply | undefined {
      const headerProjectId = headerValue(req.headers, 'x-project-id')
      if (verification.token) {
        // A token carries its project: X-Project-Id is optional then, but must agree when sent.
        const scoped = verification.token.project
        if (scoped?.id !== projectId) {
          return {
            status: 400,
            body: ecsError(
              'Common.0018',
              `The project_id in the token does not match the project_id in the URL: the token is ${
                scoped ? `scoped to project ${scoped.id}` : 'not scoped to a project'
              }, the URL names project ${projectId}.`
            )
          }
        }
      }
      if (headerProjectId !== projectId && !(verification.token && headerProjectId === undefined)) {
        return {
          status: 400,
          body: ecsError('Common.0018', 'The project_id in the token does not match the project_id in the URL.')
        }
      }
      if (!iam.hasProject(projectId)) {
        return { status: 404, body: ecsError('Ecs.0023', `The project ${projectId} does not exist.`) }
      }
      return undefined
    }
  }
}
