// Package netcheck starts netcheck checks and batches from Go, written from netcheck's
// cross-language contract alone: docs/contract.md and the JSON Schemas and golden vectors of
// contract/v1/ in the netcheck repository. Section names in comments ("§ Subject", …) are
// the headings of docs/contract.md.
//
// What it covers:
//   - the networkCheck and batchCheck workflows: names, task queue, workflow ids, search
//     attributes (§ Workflows, § Workflow ids, § Search attributes);
//   - the subject of a number (§ Subject) and the batch input fingerprint (§ Batch protocol);
//   - the payload codec, AES-256-GCM with netcheck's metadata and associated data (§ Payload
//     encryption), as a converter.PayloadCodec;
//   - the JSON shapes as Go types, checked against the schemas by this package's tests (§ Shapes);
//   - the netcheck Nexus service, called from a workflow in another namespace (§ Nexus).
package netcheck
