package netcheck

import (
	"encoding/json"
	"fmt"
)

// The JSON shapes of contract v1 (docs/contract.md § Shapes; contract/v1/schemas/). Fields
// follow the schemas one to one; shapes_test.go fails when a schema and a type disagree. Readers
// ignore fields they do not know: v1 may add optional ones.

// CheckRequest is one operation on one number.
type CheckRequest struct {
	MSISDN    string    `json:"msisdn"`
	Operation Operation `json:"operation"`
	API       API       `json:"api,omitempty"`
	MaxAge    int       `json:"maxAge,omitempty"`
	Purpose   string    `json:"purpose,omitempty"`
}

// CheckOptions tune how one check runs.
type CheckOptions struct {
	SkipFirstWait     bool `json:"skipFirstWait,omitempty"`
	MaxAuthorizations int  `json:"maxAuthorizations,omitempty"`
	Fast              bool `json:"fast,omitempty"`
}

// NetworkCheckInput is the input of the networkCheck workflow.
type NetworkCheckInput struct {
	CheckRequest
	CheckOptions
	CorrelationID string `json:"correlationId,omitempty"`
	Subject       string `json:"subject,omitempty"`
	BatchID       string `json:"batchId,omitempty"`
}

// CheckTimestamps are ISO-8601 times of the phases of a check.
type CheckTimestamps struct {
	Started     string `json:"started"`
	Authorized  string `json:"authorized,omitempty"`
	TokenIssued string `json:"tokenIssued,omitempty"`
	Checked     string `json:"checked,omitempty"`
	Finished    string `json:"finished"`
}

// CheckError says why a check failed: Code is one of ErrorCodes.
type CheckError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CheckResult is the result of networkCheck: Status "ok" with Data, or "failed" with Error.
type CheckResult struct {
	API API `json:"api"`
	// Profile and APIVersion: the operator profile and CAMARA API version that answered on the
	// CIBA road (docs/contract.md, CheckResult); absent over Identity Insights, read as "vonage".
	Profile        string            `json:"profile,omitempty"`
	APIVersion     string            `json:"apiVersion,omitempty"`
	CorrelationID  string            `json:"correlationId"`
	RequestID      string            `json:"requestId,omitempty"`
	Polls          int               `json:"polls"`
	Authorizations int               `json:"authorizations"`
	Timestamps     CheckTimestamps   `json:"timestamps"`
	Operation      Operation         `json:"operation"`
	Status         string            `json:"status"`
	Data           json.RawMessage   `json:"data,omitempty"`
	Missing        []string          `json:"missing,omitempty"`
	MissingCodes   map[string]string `json:"missingCodes,omitempty"`
	Error          *CheckError       `json:"error,omitempty"`
}

type SimSwapCheckData struct {
	Swapped bool `json:"swapped"`
}

type SimSwapDateData struct {
	// Nil when the provider knows of no SIM change.
	LatestSimChange *string `json:"latestSimChange,omitempty"`
	// Days the operator monitors (camara profile, SIM Swap 2.1.0).
	MonitoredPeriod *int `json:"monitoredPeriod,omitempty"`
}

type ConnectivityData struct {
	ConnectivityStatus string `json:"connectivityStatus"` // CONNECTED_DATA, CONNECTED_SMS, NOT_CONNECTED
}

type RoamingData struct {
	Roaming     bool     `json:"roaming"`
	CountryCode *int     `json:"countryCode,omitempty"`
	CountryName []string `json:"countryName,omitempty"`
}

type CarrierNetwork struct {
	Name        string `json:"name,omitempty"`
	NetworkType string `json:"networkType,omitempty"`
	NetworkCode string `json:"networkCode,omitempty"`
	CountryCode string `json:"countryCode,omitempty"`
}

type CarrierData struct {
	Valid           bool            `json:"valid"`
	CountryCode     string          `json:"countryCode,omitempty"`
	CountryName     string          `json:"countryName,omitempty"`
	OriginalCarrier *CarrierNetwork `json:"originalCarrier,omitempty"`
	CurrentCarrier  *CarrierNetwork `json:"currentCarrier,omitempty"`
	Ported          *bool           `json:"ported,omitempty"`
}

// TypedData decodes Data into the type of the result's operation: *SimSwapCheckData,
// *SimSwapDateData, *ConnectivityData, *RoamingData or *CarrierData. Nil for a failed check.
func (r *CheckResult) TypedData() (any, error) {
	if r.Status != "ok" {
		return nil, nil
	}
	var v any
	switch r.Operation {
	case SimSwap:
		v = &SimSwapCheckData{}
	case SimSwapDate:
		v = &SimSwapDateData{}
	case DeviceConnectivity:
		v = &ConnectivityData{}
	case DeviceRoaming:
		v = &RoamingData{}
	case Carrier:
		v = &CarrierData{}
	default:
		return nil, fmt.Errorf("netcheck: unknown operation %q", r.Operation)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		return nil, fmt.Errorf("netcheck: %s data: %w", r.Operation, err)
	}
	return v, nil
}

// CheckProgress answers networkCheck's "status" query.
type CheckProgress struct {
	Phase           string       `json:"phase"`
	Operation       Operation    `json:"operation"`
	Polls           int          `json:"polls"`
	Authorizations  int          `json:"authorizations"`
	IntervalSeconds *float64     `json:"intervalSeconds,omitempty"`
	NextPollAt      string       `json:"nextPollAt,omitempty"`
	Deadline        string       `json:"deadline,omitempty"`
	Result          *CheckResult `json:"result,omitempty"`
}

// BatchItem is one input line of a batch: a number and the operations to run on it.
type BatchItem struct {
	MSISDN     string      `json:"msisdn"`
	Operations []Operation `json:"operations"`
	API        API         `json:"api,omitempty"`
	MaxAge     int         `json:"maxAge,omitempty"`
	Purpose    string      `json:"purpose,omitempty"`
	Ref        string      `json:"ref,omitempty"`
}

// BatchOptions of the batchCheck workflow (zero values: netcheck's defaults).
type BatchOptions struct {
	SkipFirstWait      bool    `json:"skipFirstWait,omitempty"`
	MaxAuthorizations  int     `json:"maxAuthorizations,omitempty"`
	Fast               bool    `json:"fast,omitempty"`
	Concurrency        int     `json:"concurrency,omitempty"`
	Dedupe             *bool   `json:"dedupe,omitempty"`
	ContinueAsNewAfter int     `json:"continueAsNewAfter,omitempty"`
	ResultPageSize     int     `json:"resultPageSize,omitempty"`
	Bulk               bool    `json:"bulk,omitempty"`
	ChunkSize          int     `json:"chunkSize,omitempty"`
	ChunkConcurrency   int     `json:"chunkConcurrency,omitempty"`
	RateLimit          float64 `json:"rateLimit,omitempty"`
	CheckTimeout       int64   `json:"checkTimeout,omitempty"`
	// Assess makes an assessment batch (docs/contract.md, batch-check.input.json): each item is a
	// networkAssess with this compiled policy; kept as JSON here.
	Assess json.RawMessage `json:"assess,omitempty"`
}

// BatchInput is the input of the batchCheck workflow.
type BatchInput struct {
	BatchID string        `json:"batchId"`
	Options *BatchOptions `json:"options,omitempty"`
}

// BatchPageItem is an item as a page carries it: numbered, with its subject and dedupe marks.
type BatchPageItem struct {
	BatchItem
	Index       int               `json:"index"`
	Subject     string            `json:"subject,omitempty"`
	DuplicateOf map[Operation]int `json:"duplicateOf,omitempty"`
}

// BatchPage is the argument of the addPage update.
type BatchPage struct {
	PageIndex int             `json:"pageIndex"`
	Items     []BatchPageItem `json:"items"`
	Last      bool            `json:"last"`
}

// AddPageAck is the result of the addPage update.
type AddPageAck struct {
	Accepted      bool `json:"accepted"`
	NextPageIndex int  `json:"nextPageIndex"`
}

// BatchRecord is one result record per (item, operation). Outcome: ok, failed, invalid,
// cancelled — or, as stored in a result page, "duplicate" (see StoredRecord in § Batch protocol).
type BatchRecord struct {
	Index       int          `json:"index"`
	Ref         string       `json:"ref,omitempty"`
	Operation   string       `json:"operation"`
	Outcome     string       `json:"outcome"`
	Result      *CheckResult `json:"result,omitempty"`
	Error       *CheckError  `json:"error,omitempty"`
	DuplicateOf *int         `json:"duplicateOf,omitempty"`
	// Assessment is the verdict record of an assessment batch's item, kept as JSON here.
	Assessment json.RawMessage `json:"assessment,omitempty"`
}

// BatchProgress is batchCheck's result and the answer of its "progress" query.
type BatchProgress struct {
	BatchID       string         `json:"batchId"`
	State         string         `json:"state"` // receiving, running, completed, cancelled
	Total         int            `json:"total"`
	InputComplete bool           `json:"inputComplete"`
	PagesReceived int            `json:"pagesReceived"`
	Done          int            `json:"done"`
	InFlight      int            `json:"inFlight"`
	Queued        int            `json:"queued"`
	ByOutcome     map[string]int `json:"byOutcome"`
	ByErrorCode   map[string]int `json:"byErrorCode"`
	Duplicates    int            `json:"duplicates"`
	ResultPages   int            `json:"resultPages"`
	Runs          int            `json:"runs"`
	Bulk          bool           `json:"bulk,omitempty"`
	Chunks        *int           `json:"chunks,omitempty"`
}

// NexusCheckInput is the input of the Nexus operation netcheck/check.
type NexusCheckInput struct {
	CheckRequest
	CheckOptions
	RequestID     string `json:"requestId,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
}

// NexusBatchInput is the input of the Nexus operation netcheck/batch.
type NexusBatchInput struct {
	BatchID string        `json:"batchId"`
	Items   []BatchItem   `json:"items"`
	Options *BatchOptions `json:"options,omitempty"`
}
