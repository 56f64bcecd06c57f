/**
 * The worker's logger: every message and every attribute passes through netcheck's one redaction
 * function (domain/redact.ts) before it reaches the logger that writes it. The SDK logs every
 * failed activity attempt at WARN with the whole error (message, stack, cause, details), puts the
 * base64 task token in each activity log line, and workflow and activity code log through the same
 * Runtime logger: phone numbers (any spelling), JWTs, bearer and access tokens and `auth_req_id`s
 * come out masked, and task tokens are dropped.
 *
 * `netcheck worker` installs it (worker/metrics.ts `installWorkerRuntime`). A host application
 * with its own Runtime wraps its logger the same way:
 *
 *   Runtime.install({ logger: redactingLogger(myLogger), telemetryOptions: { logging: { forward: {} } } });
 */
import type { Logger, LogLevel, LogMetadata } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { redact, redactValue } from '../domain/redact.js';

/** The meta of a log line, redacted (symbol keys such as the SDK's timestamp are kept as they are). */
export function redactLogMeta(meta: LogMetadata | undefined): LogMetadata | undefined {
  if (meta === undefined || meta === null) return meta;
  return redactValue(meta) as LogMetadata;
}

/** A Logger that redacts, then hands each line to `downstream` (default: the SDK's DefaultLogger at INFO, on stderr). */
export function redactingLogger(downstream: Logger = new DefaultLogger('INFO')): Logger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    downstream.log(level, redact(String(message)), redactLogMeta(meta));
  };
  const logger: Logger & { flush?: () => void; close?: () => void } = {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
  // A buffering downstream (the SDK's flushable loggers) is still flushed and closed by the Runtime.
  const flushable = downstream as Logger & { flush?: () => void; close?: () => void };
  if (typeof flushable.flush === 'function') logger.flush = () => flushable.flush!();
  if (typeof flushable.close === 'function') logger.close = () => flushable.close!();
  return logger;
}
