/**
 * JSON Schemas of the CAMARA request and response bodies the simulator serves, written by hand
 * from CAMARA SIM Swap v0.4.0 and Device Status v0.5.0 (components/schemas and the Generic
 * error responses of each operation). They live in the project so the simulator and its tests
 * need nothing beside the repository; test/simulator/camara-conformance.test.ts checks them
 * against the upstream YAML whenever that is present.
 *
 * Each schema keeps the spec's validation keywords as written (type, format, pattern, enum,
 * required, bounds, minProperties, anyOf, default) and nothing else. The specs set no
 * `additionalProperties`, so none is set here either: unknown fields are allowed, as the spec
 * allows them. The simulator validates request bodies with these very objects
 * (simulator/camara.ts); the tests validate every body sent and received with ajv.
 */
import { SIM_SWAP_MAX_AGE, type CamaraApi, type CamaraOperation } from './wire.js';

/** A JSON Schema (draft-07 subset, as OpenAPI 3.0 writes it). */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** Both specs define the same PhoneNumber and ErrorInfo. */
const PhoneNumber = { type: 'string', pattern: '^\\+?[0-9]{5,15}$' } as const;

const ErrorInfo = {
  type: 'object',
  required: ['status', 'code', 'message'],
  properties: {
    status: { type: 'integer' },
    code: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

// ---- SIM Swap v0.4.0 ----

const CreateCheckSimSwap = {
  type: 'object',
  required: ['phoneNumber'],
  properties: {
    phoneNumber: PhoneNumber,
    maxAge: { type: 'integer', format: 'int32', ...SIM_SWAP_MAX_AGE },
  },
} as const;

const CreateSimSwapDate = {
  type: 'object',
  required: ['phoneNumber'],
  properties: { phoneNumber: PhoneNumber },
} as const;

const CheckSimSwapInfo = {
  type: 'object',
  properties: { swapped: { type: 'boolean' } },
} as const;

const SimSwapInfo = {
  type: 'object',
  properties: { latestSimChange: { type: 'string', format: 'date-time' } },
} as const;

// ---- Device Status v0.5.0 ----

const SingleIpv4Addr = { type: 'string', format: 'ipv4' } as const;
const Port = { type: 'integer', minimum: 0, maximum: 65535 } as const;

const DeviceIpv4Addr = {
  type: 'object',
  properties: { publicAddress: SingleIpv4Addr, privateAddress: SingleIpv4Addr, publicPort: Port },
  anyOf: [{ required: ['publicAddress', 'privateAddress'] }, { required: ['publicAddress', 'publicPort'] }],
} as const;

const Device = {
  type: 'object',
  properties: {
    phoneNumber: PhoneNumber,
    networkAccessIdentifier: { type: 'string' },
    ipv4Address: DeviceIpv4Addr,
    ipv6Address: { type: 'string', format: 'ipv6' },
  },
  minProperties: 1,
} as const;

const RequestDevice = { type: 'object', required: ['device'], properties: { device: Device } } as const;

const ConnectivityStatusResponse = {
  type: 'object',
  required: ['connectivityStatus'],
  properties: {
    connectivityStatus: { type: 'string', enum: ['CONNECTED_DATA', 'CONNECTED_SMS', 'NOT_CONNECTED'] },
  },
} as const;

const RoamingStatusResponse = {
  type: 'object',
  required: ['roaming'],
  properties: {
    roaming: { type: 'boolean' },
    countryCode: { type: 'integer' },
    countryName: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** The spec's components/schemas this project relies on, by the spec's own names. */
export const CAMARA_COMPONENTS = {
  'sim-swap': {
    PhoneNumber,
    ErrorInfo,
    CreateCheckSimSwap,
    CreateSimSwapDate,
    CheckSimSwapInfo,
    SimSwapInfo,
  },
  'device-status': {
    PhoneNumber,
    ErrorInfo,
    Device,
    DeviceIpv4Addr,
    RequestConnectivityStatus: RequestDevice,
    RequestRoamingStatus: RequestDevice,
    ConnectivityStatusResponse,
    RoamingStatusResponse,
  },
} as const satisfies Record<CamaraApi, Record<string, JsonSchema>>;

export interface OperationSchemas {
  request: JsonSchema;
  /** Every status the spec lists for the operation, with its body schema. */
  responses: Readonly<Record<number, JsonSchema>>;
}

function errorResponses(statuses: readonly number[]): Record<number, JsonSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorInfo]));
}

const SIM_SWAP_ERRORS = [400, 401, 403, 404, 409, 500, 503, 504] as const;
const DEVICE_STATUS_ERRORS = [400, 401, 403, 404, 500, 503] as const;

/** Request and response schemas of each operation, as its spec lists them. */
export const CAMARA_SCHEMAS = {
  'sim-swap': {
    request: CreateCheckSimSwap,
    responses: { 200: CheckSimSwapInfo, ...errorResponses(SIM_SWAP_ERRORS) },
  },
  'sim-swap-date': {
    request: CreateSimSwapDate,
    responses: { 200: SimSwapInfo, ...errorResponses(SIM_SWAP_ERRORS) },
  },
  'device-connectivity': {
    request: RequestDevice,
    responses: { 200: ConnectivityStatusResponse, ...errorResponses(DEVICE_STATUS_ERRORS) },
  },
  'device-roaming': {
    request: RequestDevice,
    responses: { 200: RoamingStatusResponse, ...errorResponses(DEVICE_STATUS_ERRORS) },
  },
} as const satisfies Record<CamaraOperation, OperationSchemas>;

/** The error body every CAMARA error answer has, whatever its status. */
export const ERROR_INFO_SCHEMA: JsonSchema = ErrorInfo;

/**
 * The CAMARA `code` each spec shows for its Generic error responses (the examples of
 * components/responses/GenericNNN); the simulator answers these codes by default.
 */
export const CAMARA_ERROR_CODES = {
  'sim-swap': {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'SIM_SWAP.UNKNOWN_PHONE_NUMBER',
    409: 'CONFLICT',
    500: 'INTERNAL',
    503: 'UNAVAILABLE',
    504: 'TIMEOUT',
  },
  'device-status': {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    500: 'INTERNAL',
    503: 'UNAVAILABLE',
  },
} as const satisfies Record<CamaraApi, Record<number, string>>;
