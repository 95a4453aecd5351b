package main

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ocikms/ocikms/bench/internal/floors"
	"github.com/ocikms/ocikms/bench/internal/impls"
	"github.com/ocikms/ocikms/bench/internal/proc"
	"github.com/ocikms/ocikms/bench/internal/report"
	"github.com/ocikms/ocikms/bench/internal/scenario"
	"github.com/ocikms/ocikms/go-bindings/emulatortest"
)

// officialModule is the module path of Vault's Go ocikms wrapper.
const officialModule = "github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2"

// runConfig is the command line of `run`.
type runConfig struct {
	emulatorBin      string
	signFloorBin     string
	pluginBin        string
	restartJSON      string
	impls            []string
	resultsDir       string
	markdown         string
	rounds           int
	warmup           time.Duration
	duration         time.Duration
	initSamples      int
	capacityDuration time.Duration
	smoke            bool
}

func parseRunFlags(args []string) (*runConfig, error) {
	c := &runConfig{}
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.StringVar(&c.emulatorBin, "emulator", "../target/release/oci-kms-emulator", "the oci-kms-emulator binary")
	fs.StringVar(&c.signFloorBin, "sign-floor", "", "the sign_floor example binary (aws-lc signature floor); empty: Go crypto/rsa only")
	fs.StringVar(&c.pluginBin, "plugin", defaultPluginBin(), "the OpenBao KMS plugin binary (scripts/build-plugin.sh; default $OCIKMS_PLUGIN_BIN)")
	fs.StringVar(&c.restartJSON, "restart", "", "JSON of tests/servers/openbao_restart_bench.py --json to report (OpenBao restart to unsealed); empty: not measured")
	fs.StringVar(&c.resultsDir, "results", "results", "directory for latest.json")
	fs.StringVar(&c.markdown, "markdown", "", "markdown file whose generated section is replaced (BENCHMARKS.md); empty: none")
	fs.IntVar(&c.rounds, "rounds", 3, "alternating rounds (each: one worker process per implementation)")
	fs.DurationVar(&c.warmup, "warmup", 300*time.Millisecond, "unmeasured warm-up per scenario")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "measured time per scenario, implementation and round")
	fs.IntVar(&c.initSamples, "init-samples", 10, "seal inits timed per worker")
	fs.DurationVar(&c.capacityDuration, "capacity-duration", 3*time.Second, "measured time of the emulator-capacity replay")
	fs.BoolVar(&c.smoke, "smoke", false, "tiny workload: checks the harness works (figures not meaningful)")
	only := fs.String("impls", strings.Join(impls.Names, ","), "comma-separated implementations to measure (for a partial look; the report expects all)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.impls = strings.Split(*only, ",")
	for _, name := range c.impls {
		if !slices.Contains(impls.Names, name) {
			return nil, fmt.Errorf("-impls: unknown implementation %q (want some of %v)", name, impls.Names)
		}
	}
	if c.smoke {
		c.rounds, c.warmup, c.duration, c.initSamples, c.capacityDuration = 1, 30*time.Millisecond, 150*time.Millisecond, 2, 150*time.Millisecond
	}
	if c.rounds < 1 {
		return nil, fmt.Errorf("-rounds must be at least 1")
	}
	var err error
	if c.pluginBin, err = filepath.Abs(c.pluginBin); err != nil {
		return nil, err
	}
	return c, nil
}

// defaultPluginBin is $OCIKMS_PLUGIN_BIN, else where scripts/build-plugin.sh writes the plugin.
func defaultPluginBin() string {
	if bin := os.Getenv("OCIKMS_PLUGIN_BIN"); bin != "" {
		return bin
	}
	return "../target/openbao-plugin/openbao-plugin-kms-ocikms"
}

// runMain is the whole benchmark.
func runMain(args []string) error {
	cfg, err := parseRunFlags(args)
	if err != nil {
		return err
	}
	emu, err := emulatortest.Start(cfg.emulatorBin)
	if err != nil {
		return err
	}
	defer emu.Stop()
	home, err := emu.Home()
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.pluginBin); err != nil && slices.Contains(cfg.impls, impls.Plugin) {
		return fmt.Errorf("the OpenBao plugin (build it with scripts/build-plugin.sh): %w", err)
	}
	info := report.RunInfo{
		Date: time.Now().UTC().Format("2006-01-02 15:04 MST"), Machine: machine(), GoVersion: runtime.Version(),
		OfficialModule: moduleVersion(officialModule), Rounds: cfg.rounds, Duration: cfg.duration.String(), Smoke: cfg.smoke,
	}
	if cfg.restartJSON != "" {
		if info.Restart, err = report.ReadRestart(cfg.restartJSON); err != nil {
			return err
		}
	}
	sig, err := newSigner(cfg, emu)
	if err != nil {
		return err
	}
	fl, err := measureFloors(sig, cfg, emu, &info)
	if err != nil {
		return err
	}
	var workers []*scenario.WorkerReport
	for round := range cfg.rounds {
		order := slices.Clone(cfg.impls)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, impl := range order {
			logf("round %d/%d: %s", round+1, cfg.rounds, impl)
			// Our CPU per op is judged against the signature floor of the same moment: the
			// machine's speed drifts over a run (other virtual machines on the host).
			var floor float64
			if impl == impls.Ours {
				if floor, err = sig.floor(); err != nil {
					return err
				}
			}
			w, err := runWorker(cfg, emu, home, impl)
			if err != nil {
				return err
			}
			w.SignFloorUs = floor
			workers = append(workers, w)
		}
	}
	results := report.Aggregate(workers, fl)
	if err := os.MkdirAll(cfg.resultsDir, 0o755); err != nil {
		return err
	}
	jsonPath := filepath.Join(cfg.resultsDir, "latest.json")
	if err := results.WriteJSON(jsonPath); err != nil {
		return err
	}
	section := results.Markdown(info)
	fmt.Println(section)
	logf("wrote %s", jsonPath)
	if cfg.markdown != "" {
		if err := report.UpdateMarkdown(cfg.markdown, section); err != nil {
			return err
		}
		logf("updated %s", cfg.markdown)
	}
	return nil
}

// signer measures the signature floor on the emulator's API key: Go crypto/rsa (the official
// wrapper's signer) and, when the sign_floor binary is given, aws-lc through ocikms::signing.
type signer struct {
	keyFile    string
	key        *rsa.PrivateKey
	bin        string
	iterations int
}

// newSigner loads the emulator's API key for the floor measurements (fewer iterations in a
// smoke run).
func newSigner(cfg *runConfig, emu *emulatortest.Emulator) (*signer, error) {
	keyFile, err := emu.APIKeyFile()
	if err != nil {
		return nil, err
	}
	key, err := floors.LoadRSAKey(keyFile)
	if err != nil {
		return nil, err
	}
	iterations := 1000
	if cfg.smoke {
		iterations = 100
	}
	return &signer{keyFile: keyFile, key: key, bin: cfg.signFloorBin, iterations: iterations}, nil
}

// floor is the signature floor now: aws-lc's (ours, the cheaper one) when the sign_floor binary
// is given, else Go's.
func (s *signer) floor() (float64, error) {
	if s.bin != "" {
		return awsLcSignMicros(s.bin, s.keyFile, s.iterations)
	}
	return floors.GoSignMicros(s.key, s.iterations)
}

// measureFloors measures one signature's cost (Go crypto/rsa here; aws-lc through the sign_floor
// binary) and the emulator's capacity for a replayed signed request.
func measureFloors(sig *signer, cfg *runConfig, emu *emulatortest.Emulator, info *report.RunInfo) (report.Floors, error) {
	var fl report.Floors
	var err error
	if info.GoSignUs, err = floors.GoSignMicros(sig.key, sig.iterations); err != nil {
		return fl, fmt.Errorf("Go signature floor: %w", err)
	}
	if sig.bin != "" {
		if info.AwsLcSignUs, err = sig.floor(); err != nil {
			return fl, err
		}
	}
	fl.RSA2048SignUs = info.StartSignUs()
	logf("signature floor: Go crypto/rsa %.0f µs, aws-lc %.0f µs", info.GoSignUs, info.AwsLcSignUs)
	req, err := floors.SignEncrypt(emu.CryptoEndpoint, emu.KeyID, emu.Tenancy+"/"+emu.User+"/"+emu.Fingerprint, sig.key)
	if err != nil {
		return fl, err
	}
	transportRequests := 2000
	if cfg.smoke {
		transportRequests = 50
	}
	if info.TransportCPUUs, err = floors.TransportCPUMicros(req, transportRequests); err != nil {
		return fl, fmt.Errorf("transport floor: %w", err)
	}
	logf("transport floor: %.0f µs client CPU per request", info.TransportCPUUs)
	emu0, err := proc.ProcessCPUTime(emu.PID())
	if err != nil {
		return fl, err
	}
	ops, requests, err := floors.Capacity(req, 32, cfg.warmup, cfg.capacityDuration)
	if err != nil {
		return fl, err
	}
	emu1, err := proc.ProcessCPUTime(emu.PID())
	if err != nil {
		return fl, err
	}
	fl.EmulatorOpsPerS = ops
	info.EmulatorCPUOps = float64((emu1 - emu0).Nanoseconds()) / 1e3 / float64(requests)
	logf("emulator capacity: %.0f requests/s", ops)
	return fl, nil
}

// awsLcSignMicros runs the sign_floor example (ocikms::signing over aws-lc) on the API key.
func awsLcSignMicros(bin, keyFile string, iterations int) (float64, error) {
	out, err := exec.Command(bin, keyFile, strconv.Itoa(iterations)).Output()
	if err != nil {
		return 0, fmt.Errorf("aws-lc signature floor (%s): %w", bin, err)
	}
	var floor struct {
		RSA2048SignUs float64 `json:"rsa2048_sign_us"`
	}
	if err := json.Unmarshal(out, &floor); err != nil {
		return 0, fmt.Errorf("aws-lc signature floor: bad output %q: %w", out, err)
	}
	return floor.RSA2048SignUs, nil
}

// runWorker runs one implementation's scenarios in a fresh process of this binary.
func runWorker(cfg *runConfig, emu *emulatortest.Emulator, home, impl string) (*scenario.WorkerReport, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "worker", "-impl", impl,
		"-key-id", emu.KeyID, "-crypto-endpoint", emu.CryptoEndpoint, "-management-endpoint", emu.ManagementEndpoint,
		"-warmup", cfg.warmup.String(), "-duration", cfg.duration.String(),
		"-init-samples", strconv.Itoa(cfg.initSamples), "-emulator-pid", strconv.Itoa(emu.PID()),
		"-plugin", cfg.pluginBin, "-oci-config-file", emu.OCIConfigFile)
	// The implementations find the API key as Vault's would: the OCI SDK default config provider
	// reads ~/.oci/config (else OCI_CONFIG_FILE); ours follows the same rules. The plugin gets
	// OCI_CONFIG_FILE from its stanza's env, then this environment (go-plugin appends it).
	cmd.Env = append(os.Environ(), "HOME="+home, "OCI_CONFIG_FILE="+emu.OCIConfigFile)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s worker: %w", impl, err)
	}
	var w scenario.WorkerReport
	if err := json.NewDecoder(bytes.NewReader(out)).Decode(&w); err != nil {
		return nil, fmt.Errorf("%s worker: bad report: %w", impl, err)
	}
	return &w, nil
}

// machine is "<CPU model>, <n> CPUs".
func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		scanner := bufio.NewScanner(f)
		for scanner.Scan() {
			if name, value, ok := strings.Cut(scanner.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
				model = strings.TrimSpace(value)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs", model, runtime.NumCPU())
}

// moduleVersion is path@version of a dependency linked into this binary.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == path {
				return dep.Path + "@" + dep.Version
			}
		}
	}
	return path + "@unknown"
}

// logf reports progress on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ocikms-bench: "+format+"\n", args...)
}
