/**
 * Payload encryption for netcheck (`netcheck/codec`): key ring, payload codec, DataConverter
 * factory, the fail-closed rules (policy.ts) and codec server.
 */
export {
  ENCRYPTION_MODES,
  HOW_TO_MAKE_A_KEY,
  KEY_BYTES,
  KEY_ID_PATTERN,
  keyIds,
  loadEncryption,
  loadKeyRing,
  newKeyEntry,
  parseKeyRing,
  type EncryptionMode,
  type EncryptionSettings,
  type KeyRing,
} from './keyring.js';
export {
  CIPHER,
  codecEncryption,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  isEncryptedPayload,
  KeylessCodec,
  METADATA_CIPHER,
  METADATA_KEY_ID,
  NETCHECK_CODEC,
  PayloadDecryptionError,
  type CodecEncryption,
  type EncryptionCodecOptions,
} from './payload-codec.js';
export {
  bundleEncodesFailures,
  bundleMarksPlaintext,
  dataConverterFromEnv,
  FAILURE_CONVERTER_MARKER,
  encryptingDataConverter,
  keylessDataConverter,
  netcheckFailureConverterPath,
  netcheckPayloadConverterPath,
  PAYLOAD_CONVERTER_MARKER,
} from './data-converter.js';
export {
  CACHE_MS as ENCRYPTION_CHECK_CACHE_MS,
  clientEncryption,
  ENCRYPTION_IDENTITY_PREFIX,
  encryptionIdentityToken,
  ensureEncryptionMatches,
  forgetQueueEncryption,
  parseEncryptionIdentity,
  queueEncryption,
  recentRunsEncryption,
  withEncryptionIdentity,
  type AdvertisedEncryption,
  type QueueEncryption,
} from './policy.js';
export { plaintextMarkingConverter } from './payload-converter.js';
export {
  PLAINTEXT_MARK,
  PLAINTEXT_METADATA_KEY,
  plaintextMarkOf,
  type PlaintextMark,
} from './plaintext-mark.js';
export { startCodecServer, type CodecServer, type CodecServerOptions } from './server.js';
