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
//    Varints (six per record: lengths, offset and timestamp deltas) were written through a JS array
//    and `Buffer.from(array)` each, and the timestamp delta through 64-bit Long arithmetic even
//    when it fits 32 bits (it is 0 for messages without a timestamp): here written straight into
//    the buffer, and a 32-bit value's varlong as its varint (the same bytes: its zigzag fits in
//    32 bits). Long arithmetic and the small Buffers were another ~15 % of that profile.
// 2. groupMessagesPerPartition: grouped a request's messages by partition with
//    `Object.assign(result, { [partition]: [...current, message] })`, copying the partition's list
//    for every message (quadratic in the messages per request; ~0.4–0.75 µs per message measured
//    here for 100–2,000 messages; kafkajs PR #1576, unmerged). Here the same grouping, appending.
//
// Measured on this machine (raw kafkajs producer, 100-message sends, 8 in flight, 8 s, runs back to
// back): 19.0–19.5 → 13.8–15.0 µs of producer CPU per message, 61–62k → 73–83k messages/s;
// ingest with 100-event batches 24.3 → 18.8–20.4 µs CPU per event, 44.6k → 48–53k events/s.
//
// Both replace a module in Node's CommonJS cache before kafkajs' own modules require it, so they
// must run before kafkajs is first loaded in the process: this module does, then loads kafkajs.
// If something loaded kafkajs earlier, nothing is touched (`kafkajsFixes` says so).
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';

/** Marks the replacements, so that a second evaluation of this module (test isolation) sees them in place. */
const FIXED = Symbol.for('viral.kafkajs-fix');

const require = createRequire(import.meta.url);
const base = require.resolve('kafkajs').replace(/index\.js$/, '');
/** The kafkajs these fixes and core/kafka/request-queue-fix.ts were written for; any other is left as published. */
const PATCHED_VERSION = '2.2.4';
export const kafkajsIsPatchedVersion = (require('kafkajs/package.json') as { version: string }).version === PATCHED_VERSION;
/** One of kafkajs' own source modules (`src/…`), the instance kafkajs itself loads. */
export function kafkajsModule<T>(path: string): T {
  return require(base + path) as T;
}

/** The part of kafkajs' Encoder (src/protocol/encoder.js) the fix touches. */
export interface EncoderLike {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeUVarInt(value: number): EncoderLike;
  writeVarInt(value: number): EncoderLike;
  writeVarLong(value: unknown): EncoderLike;
  readonly buffer: Buffer;
}
export interface EncoderClass {
  new (initialSize?: number): EncoderLike;
  nextPowerOfTwo(value: number): number;
  sizeOfVarInt(value: number): number;
  sizeOfVarLong(value: unknown): number;
  prototype: EncoderLike;
}

/** A 32-bit signed integer: its zigzag fits 32 bits, so its varlong is its varint. */
const isInt32 = (value: unknown): value is number => typeof value === 'number' && (value | 0) === value;

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

/** The replacements of Encoder's methods (prototype) and of its static sizeOfVarLong. */
export function encoderMethods(Encoder: EncoderClass) {
  const { writeVarLong } = Encoder.prototype;
  const { sizeOfVarLong } = Encoder;
  return {
    prototype: {
      /** Grows into an unfilled buffer (the written bytes are copied). */
      ensureAvailable(this: EncoderLike, length: number): void {
        if (this.offset + length > this.buf.length) {
          const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
          this.buf.copy(grown, 0, 0, this.offset);
          this.buf = grown;
        }
      },
      /** LEB128 of an unsigned 32-bit value (at most 5 bytes), written in place. */
      writeUVarInt(this: EncoderLike, value: number): EncoderLike {
        this.ensureAvailable(5);
        const buf = this.buf;
        let offset = this.offset;
        while ((value & 0xffffff80) !== 0) {
          buf[offset++] = (value & 0x7f) | 0x80;
          value >>>= 7;
        }
        buf[offset++] = value & 0x7f;
        this.offset = offset;
        return this;
      },
      writeVarLong(this: EncoderLike, value: unknown): EncoderLike {
        return isInt32(value) ? this.writeVarInt(value) : writeVarLong.call(this, value);
      },
    },
    statics: {
      sizeOfVarLong(this: EncoderClass, value: unknown): number {
        return isInt32(value) ? Encoder.sizeOfVarInt(value) : sizeOfVarLong.call(this, value);
      },
    },
  };
}

const paths = { encoder: base + 'src/protocol/encoder.js', grouping: base + 'src/producer/groupMessagesPerPartition.js' };

/** What the fixes replaced, kept for the tests that compare the two. */
export interface Originals {
  Encoder: EncoderClass;
  /** The replaced prototype methods, by name. */
  methods: Record<string, unknown>;
  sizeOfVarLong: EncoderClass['sizeOfVarLong'];
  groupMessagesPerPartition: Grouping;
}

function applyFixes(): { applied: boolean; reason: string; originals?: Originals } {
  if (!kafkajsIsPatchedVersion) return { applied: false, reason: `kafkajs is not ${PATCHED_VERSION}` };
  const cached = require.cache[paths.encoder];
  const marked = cached && (cached.exports as Record<symbol, Originals | undefined>)[FIXED];
  if (marked) return { applied: true, reason: 'in place', originals: marked };
  if (require.cache[require.resolve('kafkajs')]) return { applied: false, reason: 'kafkajs was loaded before core/kafka/kafkajs.ts' };
  const Encoder = require(paths.encoder) as EncoderClass;
  const grouping = require(paths.grouping) as Grouping;
  const replaced = encoderMethods(Encoder);
  const proto = Encoder.prototype as unknown as Record<string, unknown>;
  const names = Object.keys(replaced.prototype);
  if (typeof grouping !== 'function' || typeof Encoder?.nextPowerOfTwo !== 'function' || typeof Encoder.sizeOfVarLong !== 'function' || names.some((n) => typeof proto[n] !== 'function')) {
    return { applied: false, reason: 'kafkajs internals differ from what the fixes were written for' };
  }
  const originals: Originals = { Encoder, methods: Object.fromEntries(names.map((n) => [n, proto[n]])), sizeOfVarLong: Encoder.sizeOfVarLong, groupMessagesPerPartition: grouping };
  const fast = unfilledEncoder(Encoder);
  Object.assign(Encoder.prototype, replaced.prototype);
  Encoder.sizeOfVarLong = replaced.statics.sizeOfVarLong;
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
