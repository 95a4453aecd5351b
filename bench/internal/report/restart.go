// SPDX-License-Identifier: MPL-2.0

package report

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/ocikms/ocikms/bench/internal/stats"
)

// Restart is the restart-to-unsealed timing of the real OpenBao server with the plugin, as
// tests/servers/openbao_restart_bench.py --json writes it: one sample per restart.
type Restart struct {
	Server           string    `json:"server"`              // `bao version`, e.g. "OpenBao v2.7.2 (…)"
	PollS            float64   `json:"poll_s"`              // how often the server's health was polled
	StopS            []float64 `json:"stop_s"`              // SIGTERM → exited
	StartToUnsealedS []float64 `json:"start_to_unsealed_s"` // process started → health says unsealed
}

// ReadRestart reads the restart benchmark's JSON.
func ReadRestart(path string) (*Restart, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Restart
	if err := json.Unmarshal(text, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(r.StartToUnsealedS) == 0 || len(r.StopS) != len(r.StartToUnsealedS) {
		return nil, fmt.Errorf("%s: no restart samples, or stop and start samples differ in number", path)
	}
	return &r, nil
}

// markdown renders the restart timings as a min/median/max table.
func (r *Restart) markdown(b *strings.Builder) {
	total := make([]float64, len(r.StopS))
	for i := range total {
		total[i] = r.StopS[i] + r.StartToUnsealedS[i]
	}
	fmt.Fprintf(b, "Restart to unsealed of the real server with the plugin (`tests/servers/openbao_restart_bench.py`: %s, one raft node initialised with recovery keys, API-key seal through the `plugin \"kms\"` stanza, %d restarts, health polled every %.0f ms):\n\n",
		strings.SplitN(r.Server, " (", 2)[0], len(r.StopS), r.PollS*1000)
	b.WriteString("| Restart phase | min (s) | median (s) | max (s) |\n|---|---:|---:|---:|\n")
	for _, row := range []struct {
		name    string
		samples []float64
	}{
		{"stop (SIGTERM → exited)", r.StopS},
		{"**start → unsealed** (plugin started, stored keys decrypted)", r.StartToUnsealedS},
		{"stop → unsealed", total},
	} {
		fmt.Fprintf(b, "| %s | %.2f | %.2f | %.2f |\n", row.name,
			stats.Percentile(row.samples, 0), stats.Median(row.samples), stats.Percentile(row.samples, 100))
	}
	b.WriteString("\n")
}
