// Topic names live in one file (conventions §9).
export const EVENTS_TOPIC = 'viral.events.v1';
export const DLQ_TOPIC = 'viral.events.dlq.v1';
/** The single consumer group of the processor pipeline (raw sink + derived processors). */
export const PROCESSORS_GROUP = 'viral-processors';
/** Privacy erase requests (DELETE /v1/users/:id), consumed by the processors. */
export const ERASURES_TOPIC = 'viral.erasures.v1';
/** Metric updates written by the processors, fanned out by the api's /v1/stream (SSE). */
export const UPDATES_TOPIC = 'viral.updates.v1';
