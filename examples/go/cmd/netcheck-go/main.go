// Command netcheck-go is the Go example of netcheck's cross-language contract (docs/contract.md):
// it starts checks, a batch, or a check through the netcheck Nexus service, against netcheck
// workers on a Temporal server, and prints what comes back as JSON lines on stdout.
//
//	netcheck-go checks -msisdn +447700900001             # every operation, each over its default API
//	netcheck-go check  -msisdn +447700900001 -op sim-swap -api identity-insights -request-id order-1
//	netcheck-go batch  -batch-id nightly-1 -items items.json [-page-size 500]
//	netcheck-go nexus  -caller-namespace fraud -endpoint netcheck -msisdn +447700900001 -op sim-swap
//
// Settings, as netcheck's own clients read them: TEMPORAL_ADDRESS (default localhost:7233),
// TEMPORAL_NAMESPACE (default "default"), NETCHECK_TASK_QUEUE (default "netcheck"),
// NETCHECK_SUBJECT_KEY (required, at least 32 bytes) and NETCHECK_ENCRYPTION_KEYS or
// NETCHECK_ENCRYPTION_KEYS_FILE (the workers' key ring, when payloads are encrypted: `netcheck
// dev` prints all of them). Phone numbers are never printed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"example.com/netcheck-go/netcheck"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: netcheck-go checks|check|batch|nexus [flags]"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var err error
	switch os.Args[1] {
	case "checks", "check":
		err = runChecks(ctx, os.Args[1], os.Args[2:])
	case "batch":
		err = runBatch(ctx, os.Args[2:])
	case "nexus":
		err = runNexus(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "netcheck-go:", err)
	os.Exit(1)
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// dial connects to namespace with netcheck's converters (encrypting when a key ring is set).
func dial(namespace string) (client.Client, *netcheck.Client, error) {
	var ring *netcheck.KeyRing
	text := os.Getenv("NETCHECK_ENCRYPTION_KEYS")
	if file := os.Getenv("NETCHECK_ENCRYPTION_KEYS_FILE"); text == "" && file != "" {
		content, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, err
		}
		text = string(content)
	}
	if text != "" {
		var err error
		if ring, err = netcheck.ParseKeyRing(text); err != nil {
			return nil, nil, err
		}
	}
	dc, fc := netcheck.Converters(ring)
	c, err := client.Dial(client.Options{
		HostPort:         env("TEMPORAL_ADDRESS", "localhost:7233"),
		Namespace:        namespace,
		DataConverter:    dc,
		FailureConverter: fc,
		Logger:           tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		return nil, nil, err
	}
	return c, &netcheck.Client{
		Temporal:      c,
		TaskQueue:     env("NETCHECK_TASK_QUEUE", netcheck.DefaultTaskQueue),
		SubjectKey:    []byte(os.Getenv("NETCHECK_SUBJECT_KEY")),
		DataConverter: dc,
	}, nil
}

func emit(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		fail(err)
	}
	fmt.Println(string(line))
}

// typed decodes a result's data into its Go type and writes it back: what is printed is what
// the Go types hold, not the raw JSON.
func typed(r *netcheck.CheckResult) (*netcheck.CheckResult, error) {
	if r == nil || r.Status != "ok" {
		return r, nil
	}
	data, err := r.TypedData()
	if err != nil {
		return nil, err
	}
	out := *r
	if out.Data, err = json.Marshal(data); err != nil {
		return nil, err
	}
	return &out, nil
}

func runChecks(ctx context.Context, command string, args []string) error {
	flags := flag.NewFlagSet(command, flag.ExitOnError)
	msisdn := flags.String("msisdn", "", "E.164 number")
	op := flags.String("op", "", "operation (check)")
	api := flags.String("api", "", "camara or identity-insights (default: the operation's)")
	requestID := flags.String("request-id", "", "idempotency key (check; default a new UUID)")
	_ = flags.Parse(args)
	c, nc, err := dial(env("TEMPORAL_NAMESPACE", "default"))
	if err != nil {
		return err
	}
	defer c.Close()
	requests := []netcheck.CheckRequest{}
	if command == "check" {
		requests = append(requests, netcheck.CheckRequest{MSISDN: *msisdn, Operation: netcheck.Operation(*op), API: netcheck.API(*api)})
	} else {
		for _, operation := range netcheck.Operations {
			requests = append(requests, netcheck.CheckRequest{MSISDN: *msisdn, Operation: operation})
		}
	}
	for _, req := range requests {
		id := *requestID
		if id == "" {
			id = uuid.NewString()
		}
		result, workflowID, err := nc.CheckNumber(ctx, req, netcheck.StartCheckOptions{RequestID: id})
		if err != nil {
			return fmt.Errorf("%s: %w", req.Operation, err)
		}
		out, err := typed(result)
		if err != nil {
			return err
		}
		emit(map[string]any{
			"kind":       "check",
			"workflowId": workflowID,
			"subject":    netcheck.Subject(req.MSISDN, nc.SubjectKey),
			"result":     out,
		})
	}
	return nil
}

func runBatch(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("batch", flag.ExitOnError)
	batchID := flags.String("batch-id", "", "batch id")
	itemsFile := flags.String("items", "", "JSON array of BatchItem")
	pageSize := flags.Int("page-size", netcheck.DefaultPageSize, "items per page")
	_ = flags.Parse(args)
	raw, err := os.ReadFile(*itemsFile)
	if err != nil {
		return err
	}
	var items []netcheck.BatchItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return err
	}
	c, nc, err := dial(env("TEMPORAL_NAMESPACE", "default"))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := nc.StartBatch(ctx, *batchID, items, netcheck.StartBatchOptions{PageSize: *pageSize}); err != nil {
		return err
	}
	records, progress, err := nc.BatchResults(ctx, *batchID, 500*time.Millisecond)
	if err != nil {
		return err
	}
	for _, r := range records {
		if r.Result, err = typed(r.Result); err != nil {
			return err
		}
		emit(map[string]any{"kind": "record", "record": r})
	}
	emit(map[string]any{
		"kind":        "progress",
		"fingerprint": netcheck.InputFingerprint(items[:min(*pageSize, len(items))], nc.SubjectKey),
		"progress":    progress,
	})
	return nil
}

func runNexus(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("nexus", flag.ExitOnError)
	namespace := flags.String("caller-namespace", "", "the caller's namespace (not netcheck's)")
	endpoint := flags.String("endpoint", "", "Nexus endpoint that targets netcheck's workers")
	msisdn := flags.String("msisdn", "", "E.164 number")
	op := flags.String("op", string(netcheck.SimSwap), "operation")
	requestID := flags.String("request-id", "", "idempotency key (default: the Nexus request id)")
	_ = flags.Parse(args)
	c, _, err := dial(*namespace)
	if err != nil {
		return err
	}
	defer c.Close()
	// The caller's own worker runs the caller workflow, on a task queue of its own.
	taskQueue := "netcheck-go-caller-" + uuid.NewString()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(netcheck.CheckViaNexus, workflow.RegisterOptions{Name: "CheckViaNexus"})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	input := netcheck.NexusCheckInput{
		CheckRequest: netcheck.CheckRequest{MSISDN: *msisdn, Operation: netcheck.Operation(*op)},
		RequestID:    *requestID,
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "nexus-caller-" + uuid.NewString(),
		TaskQueue: taskQueue,
	}, "CheckViaNexus", *endpoint, input)
	if err != nil {
		return err
	}
	var result netcheck.CheckResult
	if err := run.Get(ctx, &result); err != nil {
		return err
	}
	out, err := typed(&result)
	if err != nil {
		return err
	}
	emit(map[string]any{"kind": "nexus", "callerWorkflowId": run.GetID(), "result": out})
	return nil
}
