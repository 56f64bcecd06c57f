/** Payload encryption for netcheck (`netcheck/codec`): key ring, payload codec, DataConverter factory and codec server. */
export {
  HOW_TO_MAKE_A_KEY,
  KEY_BYTES,
  KEY_ID_PATTERN,
  keyIds,
  loadKeyRing,
  newKeyEntry,
  parseKeyRing,
  type KeyRing,
} from './keyring.js';
export {
  CIPHER,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  isEncryptedPayload,
  KeylessCodec,
  METADATA_CIPHER,
  METADATA_KEY_ID,
  PayloadDecryptionError,
} from './payload-codec.js';
export {
  bundleEncodesFailures,
  dataConverterFromEnv,
  FAILURE_CONVERTER_MARKER,
  encryptingDataConverter,
  netcheckFailureConverterPath,
} from './data-converter.js';
export { startCodecServer, type CodecServer, type CodecServerOptions } from './server.js';
