/**
 * netcheck's payload converter for the workflow sandbox: Temporal's default conversions,
 * unchanged, plus one thing. A value decoded from a payload that carries the
 * `netcheck-plaintext` metadata (added by the codec of a worker with a key ring to payloads that
 * arrived unencrypted) gets a hidden mark, a non-enumerable PLAINTEXT_MARK property, which
 * netcheck's workflow entries check (codec/plaintext-mark.ts). Workflow-safe.
 *
 * The netcheck plugin bundles it (`payloadConverterPath`, see netcheckPayloadConverterPath) into
 * every workflow bundle it takes part in: a worker that bundles at start, and
 * `npm run build:bundle`. Only the bundler loads it; it is not a converter for clients.
 */
import {
  defaultPayloadConverter,
  type ConverterHint,
  type Payload,
  type PayloadConverter,
  type SerializationContext,
} from '@temporalio/common';
import { decode } from '@temporalio/common/lib/encoding.js';
import { PLAINTEXT_MARK, PLAINTEXT_METADATA_KEY, type PlaintextMark } from './plaintext-mark.js';

/** A string found in a workflow bundle that includes this converter (see bundleMarksPlaintext). */
export const PAYLOAD_CONVERTER_MARKER = 'netcheck:plaintext-marking-payload-converter/v1';

function markOf(bytes: Uint8Array): PlaintextMark {
  try {
    const mark: unknown = JSON.parse(decode(bytes));
    return mark !== null && typeof mark === 'object' ? mark : {};
  } catch {
    return {};
  }
}

/** Wraps a payload converter so that values of payloads that arrived unencrypted carry the mark. */
export function plaintextMarkingConverter(inner: PayloadConverter): PayloadConverter & { marker: string } {
  return {
    marker: PAYLOAD_CONVERTER_MARKER,
    toPayload: (value, context, hint) => inner.toPayload(value, context, hint),
    fromPayload<T>(payload: Payload, context?: SerializationContext, hint?: ConverterHint<T>): T {
      const value = inner.fromPayload<T>(payload, context, hint);
      const flag = payload.metadata?.[PLAINTEXT_METADATA_KEY];
      if (flag && value !== null && typeof value === 'object' && Object.isExtensible(value)) {
        Object.defineProperty(value, PLAINTEXT_MARK, {
          value: markOf(flag),
          enumerable: false,
          configurable: true,
        });
      }
      return value;
    },
    ...(inner.validateConverterHint
      ? { validateConverterHint: inner.validateConverterHint.bind(inner) }
      : {}),
  };
}

export const payloadConverter = plaintextMarkingConverter(defaultPayloadConverter);
