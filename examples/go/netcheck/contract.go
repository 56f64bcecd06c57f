package netcheck

import "regexp"

// Names and defaults of contract v1 (docs/contract.md § Workflows, § Search attributes).
const (
	ContractVersion = 1

	// DefaultTaskQueue is the task queue of netcheck's workers unless the deployment says otherwise.
	DefaultTaskQueue = "netcheck"

	WorkflowNetworkCheck    = "networkCheck"
	WorkflowBatchCheck      = "batchCheck"
	WorkflowBatchResultPage = "batchResultPage"

	QueryStatus   = "status"   // on networkCheck: CheckProgress
	QueryProgress = "progress" // on batchCheck: BatchProgress
	UpdateAddPage = "addPage"  // on batchCheck: BatchPage → AddPageAck

	// BatchBusyFailureType is the ApplicationFailure type of a page refused while the batch's
	// queue is full: send the same page again shortly.
	BatchBusyFailureType = "BATCH_BUSY"
	// MemoInputFingerprint is the memo key of the batch input fingerprint.
	MemoInputFingerprint = "netcheckInput"

	SearchAttributeOperation = "NetcheckOperation"
	SearchAttributeAPI       = "NetcheckApi"
	SearchAttributeSubject   = "NetcheckSubject"
	SearchAttributeBatchID   = "NetcheckBatchId"
	SearchAttributeOutcome   = "NetcheckOutcome"
	SearchAttributeErrorCode = "NetcheckErrorCode"
	SearchAttributeVerdict   = "NetcheckVerdict"

	// NexusService is the Nexus service netcheck's workers serve (§ Nexus).
	NexusService        = "netcheck"
	NexusOperationCheck = "check"
	NexusOperationBatch = "batch"

	// DefaultPageSize is the reference client's page size; the fingerprint covers the first page,
	// so clients that attach to each other's batches use the same page size (§ Batch protocol).
	DefaultPageSize = 500
	PageMaxItems    = 5000
	PageMaxBytes    = 256 * 1024
	MaxAgeDefault   = 240
	MaxAgeMin       = 1
	MaxAgeMax       = 2400
	RefMaxLength    = 256
)

// Operation is a check netcheck runs.
type Operation string

const (
	SimSwap            Operation = "sim-swap"
	SimSwapDate        Operation = "sim-swap-date"
	DeviceConnectivity Operation = "device-connectivity"
	DeviceRoaming      Operation = "device-roaming"
	Carrier            Operation = "carrier"
)

// Operations lists every operation of contract v1.
var Operations = []Operation{SimSwap, SimSwapDate, DeviceConnectivity, DeviceRoaming, Carrier}

// API is the Vonage API that answers a check.
type API string

const (
	Camara           API = "camara"
	IdentityInsights API = "identity-insights"
)

// Purposes a Vonage application may be registered with.
var Purposes = []string{"FraudPreventionAndDetection", "NotApplicable"}

// APIsOf returns the APIs that serve an operation, the default first (§ Operations).
func APIsOf(op Operation) []API {
	switch op {
	case Carrier:
		return []API{IdentityInsights}
	case SimSwap, SimSwapDate, DeviceConnectivity, DeviceRoaming:
		return []API{Camara, IdentityInsights}
	}
	return nil
}

// DefaultAPI is the API of a check that names none: camara, or the one API that serves it.
func DefaultAPI(op Operation) API {
	if apis := APIsOf(op); len(apis) > 0 {
		return apis[0]
	}
	return Camara
}

// DefaultPurpose is the purpose a check sends when it names none ("" for carrier, which sends none).
func DefaultPurpose(op Operation, api API) string {
	switch {
	case op == Carrier:
		return ""
	case api == Camara && (op == DeviceConnectivity || op == DeviceRoaming):
		return "NotApplicable"
	}
	return "FraudPreventionAndDetection"
}

var e164 = regexp.MustCompile(`^\+[1-9]\d{4,14}$`)

// IsE164 reports whether s is "+" then 5 to 15 digits without a leading zero.
func IsE164(s string) bool { return e164.MatchString(s) }

// ErrorCode semantics (§ Error codes): Retryable codes are retried inside netcheck before they
// show; OutcomeRun codes fail the workflow run (fix the input or the deployment), OutcomeResult
// codes end the check with status "failed" and that code.
type ErrorCode struct {
	Retryable bool
	Outcome   string // "run" or "result"
}

// ErrorCodes of contract v1.
var ErrorCodes = map[string]ErrorCode{
	"INVALID_INPUT":         {false, "run"},
	"CONFIGURATION":         {false, "run"},
	"ACCESS_DENIED":         {false, "result"},
	"INVALID_GRANT":         {false, "result"},
	"AUTHORIZATION_EXPIRED": {false, "result"},
	"UNAUTHENTICATED":       {false, "result"},
	"UNKNOWN_NUMBER":        {false, "result"},
	"NOT_ALLOWED":           {false, "result"},
	"NOT_SUPPORTED":         {false, "result"},
	"INVALID_ARGUMENT":      {false, "result"},
	"PERMISSION_DENIED":     {false, "result"},
	"QUOTA_EXCEEDED":        {false, "result"},
	"CONFLICT":              {true, "result"},
	"PROTOCOL_ERROR":        {false, "result"},
	"RATE_LIMITED":          {true, "result"},
	"NOT_COVERED":           {false, "result"},
	"UPSTREAM_UNAVAILABLE":  {true, "result"},
	"NETWORK_ERROR":         {true, "result"},
	"TIMEOUT":               {true, "result"},
	"CANCELLED":             {false, "result"},
	"INTERNAL":              {false, "result"},
}
