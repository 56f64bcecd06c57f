/**
 * Shape checks of Vonage's success bodies (zod). OAuth bodies let unknown fields pass; the
 * CAMARA check bodies keep exactly the fields their OpenAPI files define.
 */
import { z } from 'zod';

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

export const AuthorizeResponse = z.looseObject({
  auth_req_id: z.string({ error: 'expected a non-empty string' }).min(1, 'expected a non-empty string'),
  expires_in: seconds.pipe(z.number().positive('expected more than 0 seconds')),
  interval: seconds.pipe(z.number().nonnegative('expected 0 or more seconds')).nullish(),
});

export const TokenResponse = z.looseObject({
  access_token: z.string({ error: 'expected a non-empty string' }).min(1, 'expected a non-empty string'),
  token_type: z
    .string({ error: 'expected "Bearer"' })
    .refine((value) => value.toLowerCase() === 'bearer', 'expected "Bearer" (any letter case)'),
  expires_in: seconds.pipe(z.number().nonnegative('expected 0 or more seconds')).nullish(),
});

export const SimSwapCheckResponse = z.object({ swapped: z.boolean() });
/** `latestSimChange` is optional in CAMARA v0.4.0: a number never swapped may come back as `{}`. */
export const SimSwapDateResponse = z.object({ latestSimChange: z.string().nullish() });
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
