/**
 * OpenTelemetry tracing through Temporal's interceptors (@temporalio/interceptors-opentelemetry):
 * one trace per check, from the client's start through the workflow to every activity, as long
 * as the client and the worker both trace (the trace context travels in Temporal headers).
 *
 * Off unless the standard OpenTelemetry variables ask for it:
 * - OTEL_TRACES_EXPORTER=otlp|console (comma-separated; `none` turns tracing off), or
 * - OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT alone (means otlp).
 * OTLP goes over HTTP/protobuf (port 4318); the exporter reads the usual OTEL_EXPORTER_OTLP_*
 * variables (endpoint, headers, timeout), the provider OTEL_TRACES_SAMPLER(_ARG) and OTEL_BSP_*,
 * the resource OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. OTEL_SDK_DISABLED=true wins.
 *
 * Every span processor is wrapped in `redactingSpanProcessor`: before a span is exported its name,
 * status message, attributes and events (the exceptions Temporal's interceptors record, with the
 * error's message and stack) pass through netcheck's redaction (domain/redact.ts), so no phone
 * number, token, JWT or auth_req_id leaves in a span.
 */
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import { redact, redactValue } from '../domain/redact.js';
import { settingText } from '../common/settings.js';
import { ConfigurationError } from './config.js';

const EXPORTERS = ['otlp', 'console'] as const;
type ExporterName = (typeof EXPORTERS)[number];

/** The exporters the environment asks for; empty when tracing is off. */
export function tracesExportersFromEnv(env: NodeJS.ProcessEnv = process.env): ExporterName[] {
  if (settingText('OTEL_SDK_DISABLED', env)?.toLowerCase() === 'true') return [];
  const listed = settingText('OTEL_TRACES_EXPORTER', env)
    ?.split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (!listed || listed.length === 0) {
    const endpoint =
      settingText('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', env) ??
      settingText('OTEL_EXPORTER_OTLP_ENDPOINT', env);
    return endpoint ? ['otlp'] : [];
  }
  if (listed.includes('none')) return [];
  const unknown = listed.filter((name) => !(EXPORTERS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new ConfigurationError([
      `OTEL_TRACES_EXPORTER names ${unknown.join(', ')}: netcheck exports traces with otlp or console (or none).`,
    ]);
  }
  const protocol =
    settingText('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', env) ?? settingText('OTEL_EXPORTER_OTLP_PROTOCOL', env);
  if (listed.includes('otlp') && protocol && protocol !== 'http/protobuf') {
    throw new ConfigurationError([
      `OTEL_EXPORTER_OTLP_PROTOCOL is ${protocol}: netcheck sends OTLP over http/protobuf (the collector's port 4318); unset it or set http/protobuf.`,
    ]);
  }
  return [...new Set(listed)] as ExporterName[];
}

export interface NetcheckTracing {
  /** Add to the worker's and the client's `plugins`. */
  readonly plugin: OpenTelemetryPlugin;
  readonly tracer: Tracer;
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Where spans go (default: from the environment, see above); each gets redacted spans only. */
  spanProcessors?: SpanProcessor[];
  /** service.name unless OTEL_SERVICE_NAME sets one. */
  serviceName?: string;
  /**
   * Make this provider the process's global one, with the W3C trace-context propagator and an
   * AsyncLocalStorage context manager (default true). Temporal's interceptors propagate the trace
   * through the global propagator, so leave it on unless the host application registers its own.
   */
  register?: boolean;
}

/**
 * Tracing for a worker or a client process. Without `spanProcessors`, they come from the
 * environment; returns undefined when the environment leaves tracing off.
 */
export function createTracing(
  options: TracingOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): NetcheckTracing | undefined {
  const spanProcessors = (options.spanProcessors ?? processorsFromEnv(env)).map(redactingSpanProcessor);
  if (spanProcessors.length === 0) return undefined;
  const resource = Resource.default()
    .merge(new Resource({ 'service.name': options.serviceName ?? 'netcheck' }))
    .merge(envDetectorSync.detect());
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  if (options.register !== false) provider.register();
  const tracer = provider.getTracer('netcheck');
  // Workflow spans leave the sandbox through a sink into the same processors.
  const spanProcessor = spanProcessors.length === 1 ? spanProcessors[0]! : fanOut(spanProcessors);
  const plugin = new OpenTelemetryPlugin({ resource, spanProcessor, tracer });
  return {
    plugin,
    tracer,
    async shutdown() {
      await provider.shutdown();
      if (options.register !== false) trace.disable();
    },
  };
}

function processorsFromEnv(env: NodeJS.ProcessEnv): SpanProcessor[] {
  return tracesExportersFromEnv(env).map((name) =>
    name === 'otlp'
      ? new BatchSpanProcessor(new OTLPTraceExporter())
      : new SimpleSpanProcessor(new ConsoleSpanExporter()),
  );
}

function fanOut(processors: SpanProcessor[]): SpanProcessor {
  return {
    onStart: (span, context) => processors.forEach((p) => p.onStart(span, context)),
    onEnd: (span) => processors.forEach((p) => p.onEnd(span)),
    forceFlush: async () => void (await Promise.all(processors.map((p) => p.forceFlush()))),
    shutdown: async () => void (await Promise.all(processors.map((p) => p.shutdown()))),
  };
}

type Attributes = ReadableSpan['attributes'];

function redactAttributes(attributes: Attributes): Attributes {
  return redactValue(attributes) as Attributes;
}

/**
 * The span as it may be exported: name, status message, attributes, event names and attributes
 * (exception messages and stacks) and link attributes redacted. The rest (ids, times, resource)
 * is the span's own.
 */
export function redactSpan(span: ReadableSpan): ReadableSpan {
  const overrides: Partial<Record<keyof ReadableSpan, unknown>> = {
    name: redact(span.name),
    status:
      span.status.message === undefined
        ? span.status
        : { ...span.status, message: redact(span.status.message) },
    attributes: redactAttributes(span.attributes),
    events: span.events.map((event) => ({
      ...event,
      name: redact(event.name),
      ...(event.attributes ? { attributes: redactAttributes(event.attributes) } : {}),
    })),
    links: span.links.map((link) =>
      link.attributes ? { ...link, attributes: redactAttributes(link.attributes) } : link,
    ),
  };
  const properties: PropertyDescriptorMap = {};
  for (const [key, value] of Object.entries(overrides)) properties[key] = { value, enumerable: true };
  // The span stays the prototype: spanContext(), times, resource and getters read through.
  return Object.create(span, properties) as ReadableSpan;
}

/** `processor`, given only redacted spans (`redactSpan`) when they end. */
export function redactingSpanProcessor(processor: SpanProcessor): SpanProcessor {
  return {
    onStart: (span, context) => processor.onStart(span, context),
    onEnd: (span) => processor.onEnd(redactSpan(span)),
    forceFlush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  };
}
