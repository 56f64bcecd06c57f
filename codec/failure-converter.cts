/**
 * The failure converter of encrypted workers and clients: failure messages and stack traces move
 * into an encoded attributes payload, which the payload codec then encrypts (the failure's own
 * message reads "Encoded failure"). Temporal loads it by path (`failureConverterPath`) in the
 * worker, the client and the workflow sandbox alike, so it is plain CommonJS with no TypeScript
 * syntax: Node's require() and the workflow bundler both read this file as it is.
 */
/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access */
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
// Found in a workflow bundle built with this converter (see FAILURE_CONVERTER_MARKER).
exports.marker = 'netcheck:encoding-failure-converter/v1';
