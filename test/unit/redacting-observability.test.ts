/**
 * The worker's logger and span processor redact (worker/logging.ts, worker/tracing.ts).
 *
 * The logger: an activity run in MockActivityEnvironment fails with a provider message that
 * echoes the number in several spellings, an auth_req_id and a JWT; the SDK logs that failure at
 * WARN with the whole error and the base64 task token (the leak issue 21 reproduced). Through the
 * Runtime that `installWorkerRuntime` installs, the same lines come out masked, task token gone.
 *
 * The span processor: a span recording that exception (message and stack), a status message and
 * attributes with the same values reaches the exporter redacted.
 */
import { inspect } from 'node:util';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { installWorkerRuntime } from '../../worker/metrics.js';
import { redactingLogger } from '../../worker/logging.js';
import { createTracing } from '../../worker/tracing.js';

const DIGITS = '447700900001';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const AUTH_REQ_ID = '8a0c2f2e-1111-2222-3333-444455556666';
const TASK_TOKEN = Buffer.from('the-task-token-of-this-activity-0123456789');
const HOSTILE =
  `no subscriber +44 7700 900001 (also 44-7700-900-001, 07700 900001, %2B447700900001); ` +
  `auth_req_id=${AUTH_REQ_ID}; you sent Authorization: Bearer ${JWT}`;

/** Every secret that must not show, and whether 7 digits of the number survive in order. */
function leaks(text: string): string[] {
  const found = [JWT, JWT.split('.')[2]!, AUTH_REQ_ID, TASK_TOKEN.toString('base64'), TASK_TOKEN.toString()]
    .filter((s) => text.includes(s))
    .map((s) => s.slice(0, 12));
  const digits = text.replace(/[^0-9]/g, '');
  for (let i = 0; i + 7 <= DIGITS.length; i++) {
    if (digits.includes(DIGITS.slice(i, i + 7))) found.push(`digits ${DIGITS.slice(i, i + 7)}`);
  }
  return found;
}

function memoryLogger(): { lines: string[]; logger: DefaultLogger } {
  const lines: string[] = [];
  // What the SDK's default stderr logger prints: the message and the meta through util.inspect.
  const logger = new DefaultLogger('TRACE', (entry: LogEntry) =>
    lines.push(`[${entry.level}] ${entry.message} ${inspect(entry.meta, { depth: 10 })}`),
  );
  return { lines, logger };
}

async function failingActivity(logger: DefaultLogger | ReturnType<typeof redactingLogger>): Promise<void> {
  const env = new MockActivityEnvironment(
    { taskToken: TASK_TOKEN, base64TaskToken: TASK_TOKEN.toString('base64') },
    { logger },
  );
  await env
    .run(() => {
      Context.current().log.info('calling Vonage for +44 7700 900001', { hint: 'tel:%2B447700900001' });
      throw ApplicationFailure.create({
        type: 'UNKNOWN_NUMBER',
        message: HOSTILE,
        details: [{ echo: HOSTILE }],
      });
    })
    .catch(() => undefined);
}

describe('the worker logger', () => {
  it('without redaction the SDK logs the number, the credentials and the task token (the leak)', async () => {
    const { lines, logger } = memoryLogger();
    await failingActivity(logger);
    const text = lines.join('\n');
    expect(text).toMatch(/\[WARN\] Activity failed/);
    expect(leaks(text)).toEqual(
      expect.arrayContaining([AUTH_REQ_ID.slice(0, 12), `digits ${DIGITS.slice(0, 7)}`]),
    );
  });

  it("through the Runtime's logger, every line and attribute is redacted and the task token dropped", async () => {
    const { lines, logger } = memoryLogger();
    const runtime = installWorkerRuntime({ logger });
    await failingActivity(runtime.logger);
    runtime.flushLogs();
    const text = lines.join('\n');
    // The lines are there, with what an operator needs: the failure, its type, the activity.
    expect(text).toMatch(/\[WARN\] Activity failed/);
    expect(text).toMatch(/UNKNOWN_NUMBER/);
    expect(text).toMatch(/calling Vonage for \[number\]/);
    expect(text).toMatch(/auth_req_id=\[redacted\]/);
    expect(text).toMatch(/Bearer \[redacted\]/);
    expect(text).toMatch(/activityType/);
    expect(text).not.toMatch(/taskToken/);
    expect(leaks(text)).toEqual([]);
    expect(Runtime.instance()).toBe(runtime);
  });

  it('redactingLogger wraps any logger an embedder brings', () => {
    const { lines, logger } = memoryLogger();
    const wrapped = redactingLogger(logger);
    wrapped.error(`token ${JWT} for 07700 900001`, { error: new Error(HOSTILE), taskToken: 'x' });
    expect(lines).toHaveLength(1);
    expect(leaks(lines[0]!)).toEqual([]);
    expect(lines[0]).toMatch(/^\[ERROR\] token \[redacted\] for \[number\]/);
  });
});

describe('the span processor', () => {
  it('exports exception events, status messages, attributes and names redacted', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)], register: false })!;
    const span = tracing.tracer.startSpan('RunActivity:authorize', {
      attributes: { 'netcheck.hint': 'tel:+44 7700 900001', taskToken: 'abc', list: ['07700 900001'] },
    });
    const err = ApplicationFailure.create({ type: 'UNKNOWN_NUMBER', message: HOSTILE });
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.recordException(err);
    span.addEvent('echo 44-7700-900-001', { auth_req_id: AUTH_REQ_ID });
    span.end();

    const [exported] = exporter.getFinishedSpans(); // (shutdown would clear the exporter)
    expect(exported).toBeDefined();
    const text = JSON.stringify({
      name: exported!.name,
      status: exported!.status,
      attributes: exported!.attributes,
      events: exported!.events,
      links: exported!.links,
    });
    expect(leaks(text)).toEqual([]);
    expect(text).toContain('[number]');
    expect(text).not.toContain('taskToken');
    // Still a real span: its ids, times and the exception event are there.
    expect(exported!.name).toBe('RunActivity:authorize');
    expect(exported!.spanContext().spanId).toBe(span.spanContext().spanId);
    expect(exported!.status.code).toBe(SpanStatusCode.ERROR);
    expect(exported!.events.map((e) => e.name)).toEqual(['exception', 'echo [number]']);
    expect(exported!.events[0]!.attributes?.['exception.type']).toBe('ApplicationFailure');
    expect(String(exported!.events[0]!.attributes?.['exception.message'])).toMatch(
      /no subscriber \[number\]/,
    );
    expect(String(exported!.events[0]!.attributes?.['exception.stacktrace'])).toMatch(/\n\s+at /);
    expect(exported!.duration[0]).toBeGreaterThanOrEqual(0);
    await tracing.shutdown();
  });
});
