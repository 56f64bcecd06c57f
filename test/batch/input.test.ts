/**
 * A batch's input on the client (client/batch-input.ts), without a server: the caller's defaults
 * on each item, and the fingerprint that ties a batch id to its input.
 */
import { describe, expect, it } from 'vitest';
import type { BatchItem } from '../../domain/batch.js';
import { inputFingerprint, withDefaults } from '../../client/batch-input.js';

const key = 'input-test-subject-key-of-32-bytes!!';

describe('withDefaults', () => {
  it('fills api and purpose only where the item names none, and a purpose only where one is sent', () => {
    const defaults = { api: 'identity-insights' as const, purpose: 'FraudPreventionAndDetection' as const };
    expect(withDefaults({ msisdn: '+990123400', operations: ['sim-swap'] }, defaults)).toEqual({
      msisdn: '+990123400',
      operations: ['sim-swap'],
      api: 'identity-insights',
      purpose: 'FraudPreventionAndDetection',
    });
    // carrier sends no purpose: none is added
    expect(withDefaults({ msisdn: '+990123400', operations: ['carrier'] }, defaults)).not.toHaveProperty(
      'purpose',
    );
    // the item's own api and purpose stay
    const own: BatchItem = { msisdn: '+1', operations: ['sim-swap'], api: 'camara', purpose: 'x' };
    expect(withDefaults(own, defaults)).toEqual(own);
  });

  it('does not throw on an item that is not an object (the batch records it invalid)', () => {
    const defaults = { purpose: 'FraudPreventionAndDetection' as const };
    expect(() => withDefaults(null as unknown as BatchItem, defaults)).not.toThrow();
    expect(() => withDefaults(42 as unknown as BatchItem, defaults)).not.toThrow();
  });
});

describe('inputFingerprint', () => {
  const items: BatchItem[] = [{ msisdn: '+990123400', operations: ['sim-swap'], maxAge: 24, ref: 'a' }];

  it('is the same for the same items whatever the key order, and differs for other items or keys', () => {
    const reordered = [
      { ref: 'a', maxAge: 24, operations: ['sim-swap'], msisdn: '+990123400' },
    ] as BatchItem[];
    expect(inputFingerprint(reordered, key)).toBe(inputFingerprint(items, key));
    expect(inputFingerprint([{ ...items[0]!, maxAge: 48 }], key)).not.toBe(inputFingerprint(items, key));
    expect(inputFingerprint(items, `${key}-other`)).not.toBe(inputFingerprint(items, key));
  });

  it('reveals nothing of the numbers: 32 base64url characters', () => {
    const fingerprint = inputFingerprint(items, key);
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(fingerprint).not.toContain('990123400');
  });
});
