/**
 * Shape checks of Vonage's success bodies (zod). OAuth bodies let unknown fields pass; the
 * CAMARA check bodies keep exactly the fields their OpenAPI files define.
 */
import { z } from 'zod';
import { MAX_EXPIRES_IN_SECONDS, MAX_INTERVAL_SECONDS } from '../domain/ciba.js';

/** Seconds as a JSON number or a numeric string ("120", "2", "0"): older Vonage docs and SDK fixtures use strings. */
const seconds = z.union(
  [
    z.number(),
    z
      .string()
      .trim()
      .regex(/^\d+(?:\.\d+)?$/)
      .transform(Number),
  ],
  {
    error: (issue) =>
      issue.input === undefined
        ? 'is missing'
        : 'expected a number of seconds (a JSON number or a numeric string)',
  },
);

/**
 * Fail closed on the provider's timing: `expires_in` above MAX_EXPIRES_IN_SECONDS, `interval`
 * above MAX_INTERVAL_SECONDS or above `expires_in` are refused (PROTOCOL_ERROR), not clamped: a
 * provider asking for that is broken or hostile, and a wait it dictates would hold the check.
 */
export const AuthorizeResponse = z
  .looseObject({
    auth_req_id: z.string({ error: 'expected a non-empty string' }).min(1, 'expected a non-empty string'),
    expires_in: seconds.pipe(
      z
        .number()
        .positive('expected more than 0 seconds')
        .max(MAX_EXPIRES_IN_SECONDS, `expected at most ${MAX_EXPIRES_IN_SECONDS} seconds (netcheck's cap)`),
    ),
    interval: seconds
      .pipe(
        z
          .number()
          .nonnegative('expected 0 or more seconds')
          .max(MAX_INTERVAL_SECONDS, `expected at most ${MAX_INTERVAL_SECONDS} seconds (netcheck's cap)`),
      )
      .nullish(),
  })
  .refine(
    (body) => body.interval === undefined || body.interval === null || body.interval <= body.expires_in,
    {
      path: ['interval'],
      message: 'expected no more than expires_in (no poll could be made before the request expires)',
    },
  );

export const TokenResponse = z.looseObject({
  access_token: z.string({ error: 'expected a non-empty string' }).min(1, 'expected a non-empty string'),
  token_type: z
    .string({ error: 'expected "Bearer"' })
    .refine((value) => value.toLowerCase() === 'bearer', 'expected "Bearer" (any letter case)'),
  expires_in: seconds.pipe(z.number().nonnegative('expected 0 or more seconds')).nullish(),
});

/** An RFC 3339 date-time without a zone designator (`2017-11-14T01:07:28`, fractions allowed). */
const ZONELESS_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

/**
 * A timestamp without a zone is read as UTC (`Z` appended): Vonage's own fixtures carry
 * zone-less timestamps in some fields, and a zone-less date is not worth failing an answer
 * for. Any other value is returned as sent.
 */
export function utcIfZoneless(value: string): string {
  return ZONELESS_DATE_TIME.test(value) ? `${value}Z` : value;
}

export const SimSwapCheckResponse = z.object({ swapped: z.boolean() });
/**
 * `latestSimChange` is optional in CAMARA v0.4.0: a number never swapped may come back as `{}`.
 * Zone-less timestamps are read as UTC.
 */
export const SimSwapDateResponse = z.object({
  latestSimChange: z.string().transform(utcIfZoneless).nullish(),
});
export const ConnectivityResponse = z.object({
  connectivityStatus: z.enum(['CONNECTED_DATA', 'CONNECTED_SMS', 'NOT_CONNECTED']),
});
export const RoamingResponse = z.object({
  roaming: z.boolean(),
  countryCode: z.number().int().optional(),
  countryName: z.array(z.string()).optional(),
});

/** `field: problem; …` — zod's messages name types, never the values (no token can leak). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}
