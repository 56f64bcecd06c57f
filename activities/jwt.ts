/**
 * The Vonage application JWT (doc §1): RS256, `typ: JWT`, claims `application_id`, `iat`,
 * `exp` = iat + 900 s (what Vonage's SDKs use) and a fresh UUID `jti`. Minted inside the
 * worker for every request: it is a credential, so it is never an activity input or output,
 * never logged and never put into an error.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

/** Lifetime of an application JWT, in seconds (Vonage SDK default). */
export const APP_JWT_TTL_SECONDS = 900;

export type AppJwtMinter = () => Promise<string>;

export function createAppJwtMinter(
  applicationId: string,
  privateKey: KeyObject,
  now: () => number = Date.now,
): AppJwtMinter {
  return async function mintAppJwt(): Promise<string> {
    const iat = Math.floor(now() / 1000);
    return new SignJWT({ application_id: applicationId })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + APP_JWT_TTL_SECONDS)
      .setJti(randomUUID())
      .sign(privateKey);
  };
}
