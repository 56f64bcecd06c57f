/**
 * The Identity Insights fields of a scenario number entry (merged into scenarios.ts), and the
 * insight names and status codes they name. Apart from identity-insights.ts, which serves the
 * insights from the scenarios: scenarios.ts needs these fields, and the server needs scenarios.
 */
import { z } from 'zod';

export const INSIGHT_NAMES = [
  'sim_swap',
  'roaming',
  'reachability',
  'format',
  'original_carrier',
  'current_carrier',
] as const;
export type InsightName = (typeof INSIGHT_NAMES)[number];

export const INSIGHT_STATUS_CODES = [
  'OK',
  'PARTIAL_SUCCESS',
  'INVALID_NUMBER_FORMAT',
  'UNSUPPORTED_NETWORK_TYPE',
  'NO_COVERAGE',
  'NOT_FOUND',
  'UNAUTHORIZED',
  'INVALID_PURPOSE',
  'SUPPLIER_ERROR',
  'INTERNAL_ERROR',
] as const;
export type InsightStatusCode = (typeof INSIGHT_STATUS_CODES)[number];

const NetworkOverrideSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** e.g. MOBILE, LANDLINE, VIRTUAL. */
  networkType: z.string().min(1).optional(),
  /** MCC + MNC. */
  networkCode: z
    .string()
    .regex(/^\d{5,6}$/, 'networkCode must be MCC + MNC (5 or 6 digits)')
    .optional(),
  /** ISO 3166-1 alpha-2. */
  countryCode: z
    .string()
    .regex(/^[A-Z]{2}$/, 'countryCode must be ISO 3166-1 alpha-2')
    .optional(),
});

const InsightOverrideSchema = z.strictObject({
  /** Default: PARTIAL_SUCCESS when `omit` is given, else OK. */
  status: z.enum(INSIGHT_STATUS_CODES).optional(),
  message: z.string().optional(),
  /** Response fields of the insight to leave out (e.g. `latest_sim_swap_at`). */
  omit: z.array(z.string().min(1)).optional(),
  /** Apply to the first n requests of the number only (default: every request). */
  times: z.number().int().positive().optional(),
});

/** The Identity Insights fields of a scenario number entry. */
export const identityInsightsScenarioFields = {
  /** Carrier data instead of what the simulator derives from the number. */
  carrier: z
    .strictObject({
      valid: z.boolean().optional(),
      countryCode: z
        .string()
        .regex(/^[A-Z]{2}$/, 'countryCode must be ISO 3166-1 alpha-2')
        .optional(),
      countryName: z.string().min(1).optional(),
      original: NetworkOverrideSchema.optional(),
      current: NetworkOverrideSchema.optional(),
    })
    .optional(),
  /** Per-insight answers: status, message, fields left out. */
  insights: z.partialRecord(z.enum(INSIGHT_NAMES), InsightOverrideSchema).optional(),
};

export type InsightOverride = z.output<typeof InsightOverrideSchema>;
export type NetworkOverride = z.output<typeof NetworkOverrideSchema>;
