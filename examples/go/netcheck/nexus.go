package netcheck

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// CheckViaNexus is a workflow for the caller's own namespace: it runs one check through the
// netcheck Nexus service behind `endpoint` (§ Nexus). The caller needs neither netcheck's task
// queue nor its id rules nor the subject key: the handler applies them. The same RequestID is
// the same check.
func CheckViaNexus(ctx workflow.Context, endpoint string, input NexusCheckInput) (*CheckResult, error) {
	nexusClient := workflow.NewNexusClient(endpoint, NexusService)
	future := nexusClient.ExecuteOperation(ctx, NexusOperationCheck, input, workflow.NexusOperationOptions{
		ScheduleToCloseTimeout: time.Hour,
	})
	var result CheckResult
	if err := future.Get(ctx, &result); err != nil {
		return nil, err
	}
	return &result, nil
}
