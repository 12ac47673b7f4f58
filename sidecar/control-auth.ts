import type { MiddlewareHandler } from 'hono';
import { createTokenCheck, unauthorizedBody } from '../src/http/bearer-token.js';

// The proxy's front-door answer (401 with a WWW-Authenticate challenge), so every mesh endpoint refuses
// a missing or wrong token alike; `whose` tells the caller which token this endpoint takes.
/**
 * Hono middleware: a request without the bearer `token` gets 401 and the challenge.
 * @example app.use('/control/*', requireBearerToken(token, 'the token mesh up gave this sidecar'))
 */
export function requireBearerToken(token: string, whose: string): MiddlewareHandler {
  const check = createTokenCheck(token);
  return async (c, next) => {
    const refused = check(c.req.header('authorization'));
    if (refused) {
      const message = `${refused.message}; this endpoint takes ${whose}`;
      return c.json(unauthorizedBody(c.req.path, { ...refused, message }), 401, { 'www-authenticate': refused.challenge });
    }
    await next();
  };
}
