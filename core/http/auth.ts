// Bearer-key authentication with scopes and apps (design §2 "Apps and keys"), shared by ingest
// and api as a fastify-plugin. A header seen for the first time is looked up by its key's SHA-256
// digest, so the comparison does not run over the secret itself (no timing signal on how much of
// a key matched); headers that matched are remembered (see `verified`). Keys never reach logs
// (only the app id, scope and a digest prefix are attached to the request).
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
  // Authorization headers that already matched a key, with what they matched: a client sends the
  // same header on every request, and the digest is most of the check's CPU (~3 µs per request of
  // ~40 on the assignment route). Only matching headers are kept — one string per key, as the
  // header must be exactly `Bearer <key>` — so unknown keys do not grow it. An unknown header is
  // looked up here by its string hash first; its characters are compared with a stored header's
  // only when both hashes are equal, which a caller who does not know the key cannot aim at.
  const verified = new Map<string, { key: ApiKey; keyId: string }>();

  app.decorateRequest('auth', undefined);
  app.decorate('requireScope', (...scopes: Scope[]) => async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    let known = typeof header === 'string' ? verified.get(header) : undefined;
    if (!known) {
      const match = typeof header === 'string' ? /^Bearer ([^\s]{1,512})$/.exec(header) : null;
      if (!match) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'missing Authorization: Bearer <key>' });
      }
      const d = digest(match[1]);
      const key = byDigest.get(d);
      if (!key) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'unknown API key' });
      verified.set(header as string, (known = { key, keyId: d.slice(0, 12) }));
    }
    const { key, keyId } = known;
    // admin keys may do everything of their app.
    if (!scopes.includes(key.scope) && key.scope !== 'admin') {
      return reply.code(403).send({ error: 'forbidden', message: `this route needs scope ${scopes.join(' or ')}; the key has scope ${key.scope}` });
    }
    req.auth = { appId: key.appId, scope: key.scope, keyId };
  });
};

export default fp(authPlugin, { name: 'viral-auth' });
