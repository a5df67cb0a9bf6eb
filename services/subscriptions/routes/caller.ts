import { type FastifyReply, type FastifyRequest } from 'fastify';
import { type PresentedCredential, type Principal } from '../../platform/credentials';
import { sendProblem } from '../../platform/http';

/** Checks a request's credential against the agency systems' keys. */
export type Authenticate = (presented: PresentedCredential) => Principal | undefined;

/**
 * The agency system calling, by its `X-API-Key` (or HTTP Basic); undefined once a 401 has been
 * sent for a missing or wrong one.
 */
export function callerOf(
  request: FastifyRequest,
  reply: FastifyReply,
  authenticate: Authenticate,
): Principal | undefined {
  const apiKey = request.headers['x-api-key'];
  const principal = authenticate({
    authorization: request.headers.authorization,
    apiKey: Array.isArray(apiKey) ? undefined : apiKey,
  });
  if (!principal)
    void sendProblem(reply, {
      status: 401,
      title: 'Unauthorized',
      code: 'UNAUTHORIZED',
      detail: 'A valid X-API-Key is required',
    });
  return principal;
}
