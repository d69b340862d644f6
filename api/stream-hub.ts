// The api side of `/v1/stream` (design §7): one Kafka consumer per api process reads the updates
// topic from its end and fans each update out to the SSE clients of its app. A bounded ring
// buffer keeps recent updates so a client reconnecting with `Last-Event-ID` gets what it missed
// (ids are the update's Kafka offset); older gaps are answered with a `reset` event.
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

export interface StreamUpdate {
  id: number;
  app_id: string;
  kind: string;
  rows: Record<string, unknown>[];
}

export type Listener = (u: StreamUpdate) => void;

export interface StreamHub {
  subscribe(appId: string, listener: Listener): () => void;
  /** Every app's updates (the api's answer cache expires an app's answers on them). */
  subscribeAll(listener: Listener): () => void;
  /** Buffered updates of an app with id > lastId; `complete` false when the buffer no longer reaches back. */
  since(appId: string, lastId: number): { updates: StreamUpdate[]; complete: boolean };
  /** Feeds one update (the Kafka consumer does; tests may too). */
  publish(u: StreamUpdate): void;
}

export function createStreamHub(bufferSize = 10_000): StreamHub {
  const listeners = new Map<string, Set<Listener>>();
  const everyApp = new Set<Listener>();
  const buffer: StreamUpdate[] = [];
  return {
    subscribeAll(listener) {
      everyApp.add(listener);
      return () => everyApp.delete(listener);
    },
    subscribe(appId, listener) {
      let set = listeners.get(appId);
      if (!set) listeners.set(appId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(appId);
      };
    },
    since(appId, lastId) {
      const complete = buffer.length === 0 || buffer[0].id <= lastId + 1;
      return { updates: buffer.filter((u) => u.app_id === appId && u.id > lastId), complete };
    },
    publish(u) {
      buffer.push(u);
      if (buffer.length > bufferSize) buffer.splice(0, buffer.length - bufferSize);
      for (const l of everyApp) l(u);
      for (const l of listeners.get(u.app_id) ?? []) l(u);
    },
  };
}

/**
 * Connects a hub to the updates topic (from its end: live view; history comes from the routes).
 * Returns the function that disconnects it.
 */
export async function consumeUpdates(hub: StreamHub, kafka: Kafka, topic: string, log: Logger): Promise<() => Promise<void>> {
  const consumer = kafka.consumer({ groupId: `viral-api-stream-${randomUUID()}`, maxWaitTimeInMs: 1000 }); // a fetch returns as soon as data arrives; a short wait only burns CPU
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      try {
        const v = JSON.parse(message.value?.toString() ?? '') as Omit<StreamUpdate, 'id'>;
        hub.publish({ id: Number(message.offset), app_id: v.app_id, kind: v.kind, rows: v.rows });
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'unreadable live update skipped');
      }
    },
  });
  return () => consumer.disconnect();
}
