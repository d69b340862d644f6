// The kafkajs fixes (kafkajs.ts): in effect in this process, and byte for byte / message for
// message what the code they replace gives.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { groupMessagesPerPartition, kafkajsFixes, Kafka, type EncoderClass, type EncoderLike } from './kafkajs.ts';

const require = createRequire(import.meta.url);
const base = require.resolve('kafkajs').replace(/index\.js$/, '');

describe('kafkajs fixes', () => {
  it('are in effect: kafkajs modules get the replacements', () => {
    expect(kafkajsFixes).toMatchObject({ applied: true });
    expect(typeof Kafka).toBe('function');
    const Encoder = require(base + 'src/protocol/encoder.js') as EncoderClass;
    expect(Encoder).not.toBe(kafkajsFixes.originals!.Encoder);
    expect(new Encoder()).toBeInstanceOf(kafkajsFixes.originals!.Encoder);
    expect(require(base + 'src/producer/groupMessagesPerPartition.js')).toBe(groupMessagesPerPartition);
  });

  // One write of kafkajs' Encoder API with its argument.
  const op = fc.oneof(
    fc.record({ m: fc.constant('writeInt8'), v: fc.integer({ min: -128, max: 127 }) }),
    fc.record({ m: fc.constant('writeInt16'), v: fc.integer({ min: -32768, max: 32767 }) }),
    fc.record({ m: fc.constant('writeInt32'), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
    fc.record({ m: fc.constant('writeInt64'), v: fc.integer().map(String) }),
    fc.record({ m: fc.constant('writeVarInt'), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
    fc.record({ m: fc.constant('writeUVarInt'), v: fc.nat() }),
    fc.record({ m: fc.constant('writeVarLong'), v: fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 0)) }),
    fc.record({ m: fc.constant('writeString'), v: fc.oneof(fc.string(), fc.constant(null)) }),
    fc.record({ m: fc.constant('writeBytes'), v: fc.oneof(fc.string({ maxLength: 2000 }), fc.constant(null)) }),
    fc.record({ m: fc.constant('writeVarIntBytes'), v: fc.oneof(fc.string({ unit: 'binary', maxLength: 1500 }), fc.constant(null)) }),
    fc.record({ m: fc.constant('writeVarIntString'), v: fc.oneof(fc.string({ unit: 'grapheme' }), fc.constant(null)) }),
  );

  it('Encoder: every sequence of writes gives the bytes kafkajs’ own Encoder gives', () => {
    const { Encoder: Original, methods } = kafkajsFixes.originals!;
    const Encoder = require(base + 'src/protocol/encoder.js') as EncoderClass;
    // Leave non-zero bytes in Node's allocation pool, where unfilled buffers come from.
    for (let i = 0; i < 64; i++) Buffer.allocUnsafe(512).fill(0xa5);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2048 }), fc.array(op, { maxLength: 40 }), (initialSize, ops) => {
        const reference = new Original(initialSize);
        // The methods the fix replaced on the shared prototype, as the reference's own.
        Object.assign(reference, methods);
        const fast = new Encoder(initialSize);
        for (const o of ops) {
          (reference as unknown as Record<string, (v: unknown) => void>)[o.m](o.v);
          (fast as unknown as Record<string, (v: unknown) => void>)[o.m](o.v);
        }
        expect((fast as EncoderLike).buffer.equals(reference.buffer)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('Encoder.sizeOfVarLong: the size kafkajs’ own gives, for numbers of every range', () => {
    const { Encoder: Original, sizeOfVarLong } = kafkajsFixes.originals!;
    const Encoder = require(base + 'src/protocol/encoder.js') as EncoderClass;
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), (v) => {
        expect(Encoder.sizeOfVarLong(v)).toBe(sizeOfVarLong.call(Original, v));
      }),
      { numRuns: 2000 },
    );
  });

  it('groupMessagesPerPartition: the same groups, partitions and order as kafkajs’ own', () => {
    const original = kafkajsFixes.originals!.groupMessagesPerPartition;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.array(fc.nat(1000), { maxLength: 300 }), (partitions, keys) => {
        const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i }));
        const messages = keys.map((k, i) => ({ key: String(k), value: String(i) }));
        const partitioner = ({ message }: { message: unknown }) => Number((message as { key: string }).key) % Math.max(1, partitions);
        const args = { topic: 't', partitionMetadata, messages, partitioner };
        const expected = original(args);
        const actual = groupMessagesPerPartition(args);
        expect(actual).toEqual(expected);
        expect(Object.keys(actual)).toEqual(Object.keys(expected));
      }),
      { numRuns: 300 },
    );
  });
});
