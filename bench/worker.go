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
	impl := fs.String("impl", impls.Ours, "implementation: ours, official or plugin")
	var target impls.Target
	fs.StringVar(&target.KeyID, "key-id", "", "KMS key OCID")
	fs.StringVar(&target.CryptoEndpoint, "crypto-endpoint", "", "crypto endpoint URL")
	fs.StringVar(&target.ManagementEndpoint, "management-endpoint", "", "management endpoint URL")
	fs.StringVar(&target.PluginBin, "plugin", defaultPluginBin(), "the OpenBao KMS plugin binary (-impl plugin)")
	fs.StringVar(&target.OCIConfigFile, "oci-config-file", os.Getenv("OCI_CONFIG_FILE"), "the OCI config file the plugin stanza's env names (-impl plugin)")
	var s scenario.Settings
	fs.DurationVar(&s.Warmup, "warmup", 300*time.Millisecond, "unmeasured warm-up per scenario")
	fs.DurationVar(&s.Duration, "duration", 3*time.Second, "measured time per scenario")
	fs.IntVar(&s.InitSamples, "init-samples", 10, "seal inits timed")
	fs.IntVar(&s.EmulatorPID, "emulator-pid", 0, "emulator process id, to measure its CPU per op")
	fs.StringVar(&s.Only, "only", "", "comma-separated scenarios to run after seal_init (default: all); for profiling one, e.g. under perf")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *impl == impls.Plugin {
		// The stanza's sha256sum, which go-plugin checks against the binary at every start.
		var err error
		if target.PluginSHA256, err = impls.PluginChecksum(target.PluginBin); err != nil {
			return err
		}
	}
	report, err := scenario.RunAll(*impl, target, s)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(report)
}
