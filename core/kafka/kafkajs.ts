// kafkajs, loaded with two fixes of its producer's per-message cost (kafkajs 2.2.4 only; it has had
// no release since). The rest of the repo imports kafkajs' values from here (eslint enforces it), so
// every producer — ingest's, the processors' dead letters, the load test's raw reference — runs
// the same code.
//
// 1. Encoder: every record of a produce request is encoded into a new Encoder, which starts with a
//    zero-filled 512-byte Buffer (Buffer.alloc), and every encoder that outgrows its buffer moves
//    to a new zero-filled one. Nothing reads those bytes before they are written: each write
//    advances `offset` by exactly the bytes it wrote and `buffer` is `buf.slice(0, offset)`. Here
//    the buffers are Buffer.allocUnsafe (pooled for small sizes, not zero-filled). Buffer
//    allocation was 17 % of the raw producer's CPU in its profile.
// 2. groupMessagesPerPartition: grouped a request's messages by partition with
//    `Object.assign(result, { [partition]: [...current, message] })`, copying the partition's list
//    for every message (quadratic in the messages per request; ~0.4–0.75 µs per message measured
//    here for 100–2,000 messages; kafkajs PR #1576, unmerged). Here the same grouping, appending.
//
// Measured on this machine (raw kafkajs producer, 100-message sends, 8 in flight, 8 s, two runs
// each): 19.0–19.5 → 14.9–15.3 µs of producer CPU per message, 61–62k → 77k messages/s; ingest
// with 100-event batches 24.3 → 20.0 µs CPU per event, 44.6k → 53k events/s.
//
// Both replace a module in Node's CommonJS cache before kafkajs' own modules require it, so they
// must run before kafkajs is first loaded in the process: this module does, then loads kafkajs.
// If something loaded kafkajs earlier, nothing is touched (`kafkajsFixes` says so).
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';

const PATCHED_VERSION = '2.2.4';
/** Marks the replacements, so that a second evaluation of this module (test isolation) sees them in place. */
const FIXED = Symbol.for('viral.kafkajs-fix');

/** The part of kafkajs' Encoder (src/protocol/encoder.js) the fix touches. */
export interface EncoderLike {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  readonly buffer: Buffer;
}
export interface EncoderClass {
  new (initialSize?: number): EncoderLike;
  nextPowerOfTwo(value: number): number;
  prototype: EncoderLike;
}

type Grouping = (args: { topic: string; partitionMetadata: unknown[]; messages: unknown[]; partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number }) => Record<number, unknown[]>;

/** The same grouping as kafkajs' groupMessagesPerPartition (partitions in first-seen order, messages in order), linear. */
export const groupMessagesPerPartition: Grouping = ({ topic, partitionMetadata, messages, partitioner }) => {
  if (partitionMetadata.length === 0) return {};
  const result: Record<number, unknown[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
};

/**
 * An Encoder constructor sharing kafkajs' Encoder prototype and statics (so `instanceof`, the
 * write methods and `Encoder.sizeOfVarInt` … are the library's), starting on an unfilled buffer.
 */
export function unfilledEncoder(Encoder: EncoderClass): EncoderClass {
  function FastEncoder(this: EncoderLike, initialSize = 511) {
    this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize));
    this.offset = 0;
  }
  FastEncoder.prototype = Encoder.prototype;
  Object.setPrototypeOf(FastEncoder, Encoder);
  return FastEncoder as unknown as EncoderClass;
}

/** Encoder.prototype.ensureAvailable, growing into an unfilled buffer (the written bytes are copied). */
export function unfilledEnsureAvailable(Encoder: EncoderClass): (this: EncoderLike, length: number) => void {
  return function ensureAvailable(this: EncoderLike, length: number): void {
    if (this.offset + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  };
}

const require = createRequire(import.meta.url);
const base = require.resolve('kafkajs').replace(/index\.js$/, '');
const paths = { encoder: base + 'src/protocol/encoder.js', grouping: base + 'src/producer/groupMessagesPerPartition.js' };

/** What the fixes replaced, kept for the tests that compare the two. */
export interface Originals {
  Encoder: EncoderClass;
  ensureAvailable: (this: EncoderLike, length: number) => void;
  groupMessagesPerPartition: Grouping;
}

function applyFixes(): { applied: boolean; reason: string; originals?: Originals } {
  if ((require('kafkajs/package.json') as { version: string }).version !== PATCHED_VERSION) return { applied: false, reason: `kafkajs is not ${PATCHED_VERSION}` };
  const cached = require.cache[paths.encoder];
  const marked = cached && (cached.exports as Record<symbol, Originals | undefined>)[FIXED];
  if (marked) return { applied: true, reason: 'in place', originals: marked };
  if (require.cache[require.resolve('kafkajs')]) return { applied: false, reason: 'kafkajs was loaded before core/kafka/kafkajs.ts' };
  const Encoder = require(paths.encoder) as EncoderClass;
  const grouping = require(paths.grouping) as Grouping;
  if (typeof Encoder?.nextPowerOfTwo !== 'function' || typeof Encoder.prototype.ensureAvailable !== 'function' || typeof grouping !== 'function') {
    return { applied: false, reason: 'kafkajs internals differ from what the fixes were written for' };
  }
  const originals: Originals = { Encoder, ensureAvailable: Encoder.prototype.ensureAvailable, groupMessagesPerPartition: grouping };
  const fast = unfilledEncoder(Encoder);
  Encoder.prototype.ensureAvailable = unfilledEnsureAvailable(Encoder);
  (fast as unknown as Record<symbol, Originals>)[FIXED] = originals;
  require.cache[paths.encoder]!.exports = fast;
  require.cache[paths.grouping]!.exports = groupMessagesPerPartition;
  return { applied: true, reason: 'applied', originals };
}

/** Whether the fixes are in effect in this process (and why not), with what they replaced. */
export const kafkajsFixes: { applied: boolean; reason: string; originals?: Originals } = applyFixes();

const kafkajs = require('kafkajs') as typeof KafkaJS;
export const { Kafka, logLevel, Partitioners } = kafkajs;
export type Kafka = KafkaJS.Kafka;
export type logLevel = KafkaJS.logLevel;
export type * from 'kafkajs';
