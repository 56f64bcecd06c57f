/** `netcheck find <msisdn>`: the runs of one number, found by its subject hash (never the number itself). */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { resolveSubjectKey, subjectOf } from '../../client/index.js';
import type { Api, Operation } from '../../domain/operations.js';
import {
  NetcheckApi,
  NetcheckErrorCode,
  NetcheckOperation,
  NetcheckOutcome,
} from '../../domain/search-attributes.js';
import { EXIT, type ExitCode } from '../errors.js';
import { table } from '../output.js';
import { jsonText } from '../terminal.js';
import { withClient } from '../temporal.js';
import { numberArgument } from './check.js';

export interface FindOptions {
  op?: Operation;
  api?: Api;
  limit: number;
  json?: boolean;
}

export function findQuery(subject: string, op?: Operation, api?: Api): string {
  return (
    `NetcheckSubject = "${subject}"` +
    (op ? ` AND NetcheckOperation = "${op}"` : '') +
    (api ? ` AND NetcheckApi = "${api}"` : '')
  );
}

export async function findCommand(rawMsisdn: string, options: FindOptions): Promise<ExitCode> {
  const key = resolveSubjectKey();
  const msisdn = await numberArgument(rawMsisdn);
  const subject = subjectOf(msisdn, key);
  const query = findQuery(subject, options.op, options.api);
  return withClient(async ({ client, namespace }) => {
    const runs: WorkflowExecutionInfo[] = [];
    for await (const info of client.workflow.list({ query, pageSize: Math.min(options.limit, 1000) })) {
      runs.push(info);
      if (runs.length >= options.limit) break;
    }
    if (options.json) {
      console.log(
        jsonText(
          {
            subject,
            query,
            namespace,
            runs: runs.map((r) => ({
              workflowId: r.workflowId,
              runId: r.runId,
              type: r.type,
              status: r.status.name,
              startTime: r.startTime.toISOString(),
              closeTime: r.closeTime?.toISOString(),
              operation: r.typedSearchAttributes.get(NetcheckOperation),
              api: r.typedSearchAttributes.get(NetcheckApi),
              outcome: r.typedSearchAttributes.get(NetcheckOutcome),
              errorCode: r.typedSearchAttributes.get(NetcheckErrorCode),
            })),
          },
          2,
        ),
      );
      return EXIT.OK;
    }
    console.error(`subject ${subject} · query: ${query}`);
    if (runs.length === 0) {
      console.log('no runs found for this number (with this NETCHECK_SUBJECT_KEY / private key)');
      return EXIT.OK;
    }
    console.log(
      table(
        ['started', 'status', 'operation', 'api', 'outcome', 'error', 'workflow id'],
        runs.map((r) => [
          r.startTime.toISOString().replace(/\.\d+Z$/, 'Z'),
          r.status.name,
          r.typedSearchAttributes.get(NetcheckOperation) ?? '',
          r.typedSearchAttributes.get(NetcheckApi) ?? '',
          r.typedSearchAttributes.get(NetcheckOutcome) ?? '',
          r.typedSearchAttributes.get(NetcheckErrorCode) ?? '',
          r.workflowId,
        ]),
      ),
    );
    return EXIT.OK;
  });
}
