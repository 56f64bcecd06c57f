package netcheck

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// Client starts netcheck checks and batches on a Temporal client (docs/contract.md § Workflows).
type Client struct {
	Temporal  client.Client
	TaskQueue string // default DefaultTaskQueue
	// SubjectKey is NETCHECK_SUBJECT_KEY as bytes, the same on every netcheck client (§ Subject).
	SubjectKey []byte
	// DataConverter is the one the Temporal client was dialled with (Converters); it reads memos.
	DataConverter converter.DataConverter
}

func (c *Client) taskQueue() string {
	if c.TaskQueue != "" {
		return c.TaskQueue
	}
	return DefaultTaskQueue
}

func (c *Client) dataConverter() converter.DataConverter {
	if c.DataConverter != nil {
		return c.DataConverter
	}
	return converter.GetDefaultDataConverter()
}

// StartCheckOptions of one check.
type StartCheckOptions struct {
	CheckOptions
	// RequestID names the check: starting again with the same one attaches to the same run
	// instead of checking twice (§ Workflow ids). Default: a new UUID.
	RequestID     string
	CorrelationID string
	// ExecutionTimeout bounds the whole check (default 1 hour, as netcheck's own clients).
	ExecutionTimeout time.Duration
}

// Resolve fills in what the contract defaults: the API of the operation.
func (r CheckRequest) Resolve() CheckRequest {
	if r.API == "" {
		r.API = DefaultAPI(r.Operation)
	}
	return r
}

// StartCheck starts networkCheck (or attaches to the run of the same request id) and returns its run.
func (c *Client) StartCheck(ctx context.Context, req CheckRequest, opts StartCheckOptions) (client.WorkflowRun, string, error) {
	req = req.Resolve()
	if !IsE164(req.MSISDN) {
		return nil, "", errors.New("netcheck: msisdn must be E.164, e.g. +447700900000")
	}
	if len(c.SubjectKey) < SubjectKeyMinBytes {
		return nil, "", fmt.Errorf("netcheck: the subject key must be at least %d bytes", SubjectKeyMinBytes)
	}
	subject := Subject(req.MSISDN, c.SubjectKey)
	requestID := opts.RequestID
	if requestID == "" {
		requestID = uuid.NewString()
	}
	timeout := opts.ExecutionTimeout
	if timeout == 0 {
		timeout = time.Hour
	}
	workflowID := CheckWorkflowID(req.API, req.Operation, subject, requestID)
	run, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflowID,
		TaskQueue:                c.taskQueue(),
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowExecutionTimeout: timeout,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(SearchAttributeOperation).ValueSet(string(req.Operation)),
			temporal.NewSearchAttributeKeyKeyword(SearchAttributeAPI).ValueSet(string(req.API)),
			temporal.NewSearchAttributeKeyKeyword(SearchAttributeSubject).ValueSet(subject),
		),
		// Never the number: a summary is stored in the clear.
		StaticSummary: fmt.Sprintf("%s · %s · from Go", req.Operation, req.API),
	}, WorkflowNetworkCheck, NetworkCheckInput{
		CheckRequest:  req,
		CheckOptions:  opts.CheckOptions,
		CorrelationID: opts.CorrelationID,
		Subject:       subject,
	})
	if err != nil {
		return nil, workflowID, err
	}
	return run, workflowID, nil
}

// CheckNumber runs one check and waits for its result.
func (c *Client) CheckNumber(ctx context.Context, req CheckRequest, opts StartCheckOptions) (*CheckResult, string, error) {
	run, id, err := c.StartCheck(ctx, req, opts)
	if err != nil {
		return nil, id, err
	}
	var result CheckResult
	if err := run.Get(ctx, &result); err != nil {
		return nil, id, err
	}
	return &result, id, nil
}

// ErrBatchConflict: the batch id is taken by a batch started with other input (its fingerprint differs).
var ErrBatchConflict = errors.New("netcheck: the batch id is taken by a batch with other input")

// StartBatchOptions of a batch.
type StartBatchOptions struct {
	Options  BatchOptions
	PageSize int // default DefaultPageSize
	// ExecutionTimeout bounds the whole batch (default 7 days, as netcheck's own clients).
	ExecutionTimeout time.Duration
}

// StartBatch starts batchCheck under batchID (or attaches to the batch of that id, if it had
// the same input) and sends the items in addPage updates (§ Batch protocol). It returns once
// the batch has every page.
func (c *Client) StartBatch(ctx context.Context, batchID string, items []BatchItem, opts StartBatchOptions) error {
	pageSize := opts.PageSize
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	if len(c.SubjectKey) < SubjectKeyMinBytes {
		return fmt.Errorf("netcheck: the subject key must be at least %d bytes", SubjectKeyMinBytes)
	}
	timeout := opts.ExecutionTimeout
	if timeout == 0 {
		timeout = 7 * 24 * time.Hour
	}
	head := items[:min(pageSize, len(items))]
	fingerprint := InputFingerprint(head, c.SubjectKey)
	options := opts.Options
	_, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       batchID,
		TaskQueue:                                c.taskQueue(),
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowTaskTimeout:                      20 * time.Second,
		WorkflowExecutionTimeout:                 timeout,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(SearchAttributeBatchID).ValueSet(batchID),
		),
		Memo:          map[string]any{MemoInputFingerprint: fingerprint},
		StaticSummary: "netcheck batch " + batchID + " · from Go",
	}, WorkflowBatchCheck, BatchInput{BatchID: batchID, Options: &options})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	closed := errors.As(err, &started)
	if err != nil && !closed {
		return err
	}
	if err := c.ensureSameInput(ctx, batchID, fingerprint); err != nil {
		return err
	}
	if closed {
		return nil // it ran before and is over: nothing to send
	}
	progress, err := c.BatchProgress(ctx, batchID)
	if err != nil {
		return err
	}
	if progress.InputComplete {
		return nil
	}
	dedupe := options.Dedupe == nil || *options.Dedupe
	for _, page := range c.Pages(items, pageSize, dedupe) {
		if page.PageIndex < progress.PagesReceived {
			continue // the batch has it from an earlier, interrupted start
		}
		if err := c.sendPage(ctx, batchID, page); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) ensureSameInput(ctx context.Context, batchID, fingerprint string) error {
	desc, err := c.Temporal.DescribeWorkflowExecution(ctx, batchID, "")
	if err != nil {
		return err
	}
	payload, ok := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[MemoInputFingerprint]
	if !ok {
		return nil // started without a fingerprint: not checked
	}
	var theirs string
	if err := c.dataConverter().FromPayload(payload, &theirs); err != nil {
		return err
	}
	if theirs != fingerprint {
		return ErrBatchConflict
	}
	return nil
}

// Pages numbers the items, computes their subjects and dedupe marks, and cuts them into pages
// of at most pageSize items and PageMaxBytes bytes (§ Batch protocol). There is always at least
// one page, the last one marked Last.
func (c *Client) Pages(items []BatchItem, pageSize int, dedupe bool) []BatchPage {
	firstSeen := map[string]int{}
	pages := []BatchPage{}
	current := BatchPage{Items: []BatchPageItem{}}
	bytes := 0
	for i, item := range items {
		entry := BatchPageItem{BatchItem: item, Index: i}
		if IsE164(item.MSISDN) {
			entry.Subject = Subject(item.MSISDN, c.SubjectKey)
			for _, op := range item.Operations {
				key, ok := dedupeKey(item, op)
				if !dedupe || !ok {
					continue
				}
				if first, seen := firstSeen[key]; seen {
					if entry.DuplicateOf == nil {
						entry.DuplicateOf = map[Operation]int{}
					}
					entry.DuplicateOf[op] = first
				} else {
					firstSeen[key] = i
				}
			}
		}
		size := approxJSONSize(entry)
		if len(current.Items) > 0 && (len(current.Items) >= pageSize || bytes+size > PageMaxBytes) {
			pages = append(pages, current)
			current = BatchPage{PageIndex: current.PageIndex + 1, Items: []BatchPageItem{}}
			bytes = 0
		}
		current.Items = append(current.Items, entry)
		bytes += size
	}
	current.Last = true
	return append(pages, current)
}

// dedupeKey is what two checks share to be one: operation, api, purpose, maxAge and number,
// with the defaults applied. Items that are not valid get no key (they are recorded invalid).
func dedupeKey(item BatchItem, op Operation) (string, bool) {
	apis := APIsOf(op)
	api := item.API
	if api == "" {
		api = DefaultAPI(op)
	}
	served := false
	for _, a := range apis {
		served = served || a == api
	}
	if !served || len(item.Ref) > RefMaxLength || (item.MaxAge != 0 && (item.MaxAge < MaxAgeMin || item.MaxAge > MaxAgeMax)) {
		return "", false
	}
	purpose := item.Purpose
	if purpose == "" {
		purpose = DefaultPurpose(op, api)
	}
	maxAge := ""
	if op == SimSwap {
		maxAge = strconv.Itoa(MaxAgeDefault)
		if item.MaxAge != 0 {
			maxAge = strconv.Itoa(item.MaxAge)
		}
	}
	return strings.Join([]string{string(op), string(api), purpose, maxAge, item.MSISDN}, "|"), true
}

func approxJSONSize(item BatchPageItem) int {
	n := 120 + len(item.MSISDN) + len(item.Ref) + len(item.Purpose) + len(item.Subject)
	for _, op := range item.Operations {
		n += len(op) + 24
	}
	return n
}

// sendPage sends one page, again while the batch answers BATCH_BUSY (its queue is full).
func (c *Client) sendPage(ctx context.Context, batchID string, page BatchPage) error {
	wait := 250 * time.Millisecond
	for {
		handle, err := c.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID:   batchID,
			UpdateName:   UpdateAddPage,
			Args:         []any{page},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			var ack AddPageAck
			err = handle.Get(ctx, &ack)
			if err == nil {
				return nil
			}
		}
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != BatchBusyFailureType {
			return fmt.Errorf("netcheck: page %d of batch %s: %w", page.PageIndex, batchID, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// BatchProgress is the batch's live progress while it runs (the "progress" query), its result once closed.
func (c *Client) BatchProgress(ctx context.Context, batchID string) (*BatchProgress, error) {
	desc, err := c.Temporal.DescribeWorkflowExecution(ctx, batchID, "")
	if err != nil {
		return nil, err
	}
	var progress BatchProgress
	if desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		value, err := c.Temporal.QueryWorkflow(ctx, batchID, "", QueryProgress)
		if err != nil {
			return nil, err
		}
		return &progress, value.Get(&progress)
	}
	return &progress, c.Temporal.GetWorkflow(ctx, batchID, "").Get(ctx, &progress)
}

// BatchResults waits for the batch to end and returns every record, each (item, operation) once,
// duplicates filled in from the record they repeat, in the order they were stored.
func (c *Client) BatchResults(ctx context.Context, batchID string, poll time.Duration) ([]BatchRecord, *BatchProgress, error) {
	var stored []BatchRecord
	read := 0
	for {
		progress, err := c.BatchProgress(ctx, batchID)
		if err != nil {
			return nil, nil, err
		}
		for ; read < progress.ResultPages; read++ {
			var page []BatchRecord
			id := fmt.Sprintf("%s/results/%d", batchID, read)
			if err := c.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &page); err != nil {
				return nil, nil, err
			}
			stored = append(stored, page...)
		}
		if progress.State == "completed" || progress.State == "cancelled" {
			return fanOut(stored), progress, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func fanOut(stored []BatchRecord) []BatchRecord {
	originals := map[string]BatchRecord{}
	for _, r := range stored {
		if r.Outcome != "duplicate" {
			originals[fmt.Sprintf("%d|%s", r.Index, r.Operation)] = r
		}
	}
	out := make([]BatchRecord, 0, len(stored))
	for _, r := range stored {
		if r.Outcome == "duplicate" && r.DuplicateOf != nil {
			if original, ok := originals[fmt.Sprintf("%d|%s", *r.DuplicateOf, r.Operation)]; ok {
				r.Outcome, r.Result, r.Error = original.Outcome, original.Result, original.Error
			} else {
				r.Outcome = "cancelled"
				r.Error = &CheckError{Code: "CANCELLED", Message: fmt.Sprintf("Item %d, which this item repeats, was not checked", *r.DuplicateOf)}
			}
		}
		out = append(out, r)
	}
	return out
}
