// Bearer-key authentication with scopes and apps (design §2 "Apps and keys"), shared by ingest
// and api as a fastify-plugin. Keys are looked up by their SHA-256 digest, so the comparison
// never runs over the secret itself (no timing signal on how much of a key matched), and keys
// never reach logs (only the app id and scope are attached to the request).
import fp from 'fastify-plugin';
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKey, Scope } from '../config.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth?: { appId: string; scope: Scope; keyId: string };
  }
  interface FastifyInstance {
    requireScope: (...scopes: Scope[]) => (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

const authPlugin: FastifyPluginAsync<{ keys: ApiKey[] }> = async (app, opts) => {
  const byDigest = new Map(opts.keys.map((k) => [digest(k.key), k]));

  app.decorateRequest('auth', undefined);
  app.decorate('requireScope', (...scopes: Scope[]) => async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]{1,512})$/.exec(header) : null;
    if (!match) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'missing Authorization: Bearer <key>' });
    }
    const d = digest(match[1]);
    const key = byDigest.get(d);
    if (!key) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'unknown API key' });
    // admin keys may do everything of their app.
    if (!scopes.includes(key.scope) && key.scope !== 'admin') {
      return reply.code(403).send({ error: 'forbidden', message: `this route needs scope ${scopes.join(' or ')}; the key has scope ${key.scope}` });
    }
    req.auth = { appId: key.appId, scope: key.scope, keyId: d.slice(0, 12) };
  });
};

export default fp(authPlugin, { name: 'viral-auth' });
