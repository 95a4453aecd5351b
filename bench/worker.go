package main

import (
	"encoding/json"
	"flag"
	"os"
	"time"

	"github.com/ocikms/ocikms/bench/internal/impls"
	"github.com/ocikms/ocikms/bench/internal/scenario"
)

// workerMain runs every scenario for one implementation and prints the report as JSON on stdout.
// The OCI config (API key) comes from the environment the parent sets (OCI_CONFIG_FILE, HOME).
func workerMain(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	impl := fs.String("impl", impls.Ours, "implementation: ours or official")
	var target impls.Target
	fs.StringVar(&target.KeyID, "key-id", "", "KMS key OCID")
	fs.StringVar(&target.CryptoEndpoint, "crypto-endpoint", "", "crypto endpoint URL")
	fs.StringVar(&target.ManagementEndpoint, "management-endpoint", "", "management endpoint URL")
	var s scenario.Settings
	fs.DurationVar(&s.Warmup, "warmup", 300*time.Millisecond, "unmeasured warm-up per scenario")
	fs.DurationVar(&s.Duration, "duration", 3*time.Second, "measured time per scenario")
	fs.IntVar(&s.InitSamples, "init-samples", 10, "seal inits timed")
	fs.IntVar(&s.EmulatorPID, "emulator-pid", 0, "emulator process id, to measure its CPU per op")
	fs.StringVar(&s.Only, "only", "", "comma-separated scenarios to run after seal_init (default: all); for profiling one, e.g. under perf")
	if err := fs.Parse(args); err != nil {
		return err
	}
	report, err := scenario.RunAll(*impl, target, s)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(report)
}
