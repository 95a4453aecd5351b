// Command ocikms-bench measures this project's Go binding against Vault's official Go ocikms
// wrapper on one OCI KMS emulator (issue 7). `scripts/bench.sh` builds and runs it.
//
//	ocikms-bench run [flags]      the whole benchmark: floors, alternating rounds, reports
//	ocikms-bench worker [flags]   one implementation's scenarios in this process (started by run)
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ocikms-bench run|worker [flags] (see -h)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runMain(os.Args[2:])
	case "worker":
		err = workerMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use run or worker", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ocikms-bench:", err)
		os.Exit(1)
	}
}
