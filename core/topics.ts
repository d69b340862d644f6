// Topic names live in one file (conventions §9).
export const EVENTS_TOPIC = 'viral.events.v1';
export const DLQ_TOPIC = 'viral.events.dlq.v1';
/** The single consumer group of the processor pipeline (raw sink + derived processors). */
export const PROCESSORS_GROUP = 'viral-processors';
