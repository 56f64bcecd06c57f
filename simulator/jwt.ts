/**
 * Verifies the Vonage application JWT sent as `Authorization: Bearer` to the OAuth
 * endpoints: RS256 signature by the configured public key, `application_id` equal to the
 * configured id, `iat` and `exp` present, `exp` in the future and `exp - iat` ≤ 24 h.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify } from 'jose';

export const MAX_JWT_LIFETIME_SECONDS = 24 * 60 * 60;

export type JwtCheck = { ok: true } | { ok: false; detail: string };

export function toPublicKey(key: string | KeyObject): KeyObject {
  const keyObject = typeof key === 'string' ? createPublicKey(key) : key;
  if (keyObject.type !== 'public')
    throw new TypeError('publicKey must be a public key (SPKI PEM or KeyObject)');
  if (keyObject.asymmetricKeyType !== 'rsa') throw new TypeError('publicKey must be an RSA key (RS256)');
  return keyObject;
}

export async function verifyApplicationJwt(
  token: string | undefined,
  key: KeyObject,
  applicationId: string,
  nowMs: number,
): Promise<JwtCheck> {
  if (!token) return { ok: false, detail: 'Missing Authorization: Bearer <application JWT> header.' };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['RS256'],
      requiredClaims: ['iat', 'exp'],
      currentDate: new Date(nowMs),
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired)
      return { ok: false, detail: 'The application JWT has expired (exp).' };
    if (err instanceof errors.JWSSignatureVerificationFailed) {
      return {
        ok: false,
        detail: "The application JWT signature does not match the application's public key.",
      };
    }
    if (err instanceof errors.JWTClaimValidationFailed) {
      return { ok: false, detail: `The application JWT is invalid: ${err.message}.` };
    }
    if (err instanceof errors.JOSEAlgNotAllowed)
      return { ok: false, detail: 'The application JWT must be signed with RS256.' };
    return { ok: false, detail: 'The application JWT is malformed.' };
  }
  if (payload.application_id !== applicationId) {
    return { ok: false, detail: 'The application JWT is not for this application (application_id).' };
  }
  const { iat, exp } = payload as { iat: number; exp: number };
  if (exp - iat > MAX_JWT_LIFETIME_SECONDS) {
    return { ok: false, detail: 'The application JWT lives longer than 24 hours (exp - iat).' };
  }
  return { ok: true };
}
