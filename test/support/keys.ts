/** Test keys, made at test time (never committed): the RSA pair a Vonage application has, and an EC key it refuses. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface TestKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The private key as PKCS #8 PEM, the form VONAGE_PRIVATE_KEY takes. */
  privateKeyPem: string;
}

/** A fresh RSA-2048 key pair, like the one Vonage generates for an application. */
export function makeKeys(): TestKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey,
    publicKey,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** A P-256 private key: the wrong kind for a Vonage application (RS256 needs RSA). */
export function makeEcKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}
