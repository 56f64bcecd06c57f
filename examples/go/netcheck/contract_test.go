package netcheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// contractDir is contract/v1 of the netcheck repository (NETCHECK_CONTRACT_DIR overrides).
func contractDir() string {
	if dir := os.Getenv("NETCHECK_CONTRACT_DIR"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "..", "contract", "v1")
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(contractDir(), name))
	if err != nil {
		t.Fatalf("reading the contract: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

type manifest struct {
	Version   int `json:"version"`
	TaskQueue struct {
		Default string `json:"default"`
	} `json:"taskQueue"`
	Workflows struct {
		NetworkCheck struct {
			Queries map[string]string `json:"queries"`
		} `json:"networkCheck"`
		BatchCheck struct {
			Queries map[string]string `json:"queries"`
			Updates map[string]struct {
				BusyFailureType string `json:"busyFailureType"`
			} `json:"updates"`
			Memo                       map[string]string `json:"memo"`
			WorkflowTaskTimeoutSeconds int               `json:"workflowTaskTimeoutSeconds"`
		} `json:"batchCheck"`
		BatchResultPage struct {
			WorkflowID string `json:"workflowId"`
		} `json:"batchResultPage"`
	} `json:"workflows"`
	SearchAttributes map[string]struct {
		Type string `json:"type"`
	} `json:"searchAttributes"`
	Operations map[string]struct {
		APIs           []string           `json:"apis"`
		DefaultAPI     string             `json:"defaultApi"`
		DefaultPurpose map[string]*string `json:"defaultPurpose"`
	} `json:"operations"`
	Purposes   []string `json:"purposes"`
	ErrorCodes map[string]struct {
		Retryable bool   `json:"retryable"`
		Outcome   string `json:"outcome"`
	} `json:"errorCodes"`
	Subject struct {
		KeyMinBytes int `json:"keyMinBytes"`
	} `json:"subject"`
	Codec struct {
		Encoding string `json:"encoding"`
		Metadata struct {
			KeyID  string `json:"keyId"`
			Cipher string `json:"cipher"`
		} `json:"metadata"`
		Cipher       string `json:"cipher"`
		KeyBytes     int    `json:"keyBytes"`
		IVBytes      int    `json:"ivBytes"`
		TagBytes     int    `json:"tagBytes"`
		KeyIDPattern string `json:"keyIdPattern"`
	} `json:"codec"`
	Batch struct {
		PageMaxItems int `json:"pageMaxItems"`
		PageMaxBytes int `json:"pageMaxBytes"`
		FieldLimits  struct {
			Ref int `json:"ref"`
		} `json:"fieldLimits"`
	} `json:"batch"`
	Nexus struct {
		Service    string                     `json:"service"`
		Operations map[string]json.RawMessage `json:"operations"`
	} `json:"nexus"`
}

// This package's names and rules are contract.json's.
func TestManifest(t *testing.T) {
	var m manifest
	readJSON(t, "contract.json", &m)
	eq := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: the Go client has %v, the contract %v", what, got, want)
		}
	}
	eq("version", ContractVersion, m.Version)
	eq("task queue", DefaultTaskQueue, m.TaskQueue.Default)
	_, status := m.Workflows.NetworkCheck.Queries[QueryStatus]
	eq("status query", status, true)
	_, progress := m.Workflows.BatchCheck.Queries[QueryProgress]
	eq("progress query", progress, true)
	eq("BATCH_BUSY", m.Workflows.BatchCheck.Updates[UpdateAddPage].BusyFailureType, BatchBusyFailureType)
	_, memo := m.Workflows.BatchCheck.Memo[MemoInputFingerprint]
	eq("fingerprint memo", memo, true)
	eq("batch task timeout", m.Workflows.BatchCheck.WorkflowTaskTimeoutSeconds, 20)
	eq("result page id", m.Workflows.BatchResultPage.WorkflowID, "<batchId>/results/<n>")
	for _, name := range []string{SearchAttributeOperation, SearchAttributeAPI, SearchAttributeSubject, SearchAttributeBatchID, SearchAttributeOutcome, SearchAttributeErrorCode, SearchAttributeVerdict} {
		eq("search attribute "+name, m.SearchAttributes[name].Type, "Keyword")
	}
	eq("search attributes", len(m.SearchAttributes), 7)
	eq("operations", len(m.Operations), len(Operations))
	for _, op := range Operations {
		spec := m.Operations[string(op)]
		eq(string(op)+" default api", string(DefaultAPI(op)), spec.DefaultAPI)
		eq(string(op)+" apis", len(APIsOf(op)), len(spec.APIs))
		for i, api := range spec.APIs {
			eq(string(op)+" api", string(APIsOf(op)[i]), api)
			want := ""
			if p := spec.DefaultPurpose[api]; p != nil {
				want = *p
			}
			eq(string(op)+"/"+api+" purpose", DefaultPurpose(op, API(api)), want)
		}
	}
	eq("purposes", len(m.Purposes), len(Purposes))
	eq("error codes", len(ErrorCodes), len(m.ErrorCodes))
	for code, spec := range m.ErrorCodes {
		eq(code, ErrorCodes[code], ErrorCode{spec.Retryable, spec.Outcome})
	}
	eq("subject key bytes", SubjectKeyMinBytes, m.Subject.KeyMinBytes)
	eq("encoding", EncryptedEncoding, m.Codec.Encoding)
	eq("key id metadata", MetadataKeyID, m.Codec.Metadata.KeyID)
	eq("cipher metadata", MetadataCipher, m.Codec.Metadata.Cipher)
	eq("cipher", Cipher, m.Codec.Cipher)
	eq("key bytes", KeyBytes, m.Codec.KeyBytes)
	eq("iv bytes", ivBytes, m.Codec.IVBytes)
	eq("tag bytes", tagBytes, m.Codec.TagBytes)
	eq("key id pattern", keyIDPattern.String(), m.Codec.KeyIDPattern)
	eq("page items", PageMaxItems, m.Batch.PageMaxItems)
	eq("page bytes", PageMaxBytes, m.Batch.PageMaxBytes)
	eq("ref length", RefMaxLength, m.Batch.FieldLimits.Ref)
	eq("nexus service", NexusService, m.Nexus.Service)
	for _, op := range []string{NexusOperationCheck, NexusOperationBatch} {
		_, ok := m.Nexus.Operations[op]
		eq("nexus operation "+op, ok, true)
	}
}
