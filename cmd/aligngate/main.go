// Command aligngate is an OpenAI-compatible proxy that corrects answers with
// a local Aligner model. It is the only place that reads flags and the
// environment.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=..."; left
// at "dev", the module version from the build info is printed.
var version = "dev"

const usage = `aligngate: an OpenAI-compatible proxy that corrects answers with an Aligner model.

Usage:
  aligngate serve [--config FILE] [--listen ADDR] [--upstream URL] [flags]
  aligngate check --config FILE
  aligngate eval [flags]
  aligngate version

Run "aligngate COMMAND --help" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "aligngate:", err)
		}
		os.Exit(2)
	}
}

// errUsage means the usage text was already printed.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stderr)
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "eval":
		return runEval(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}
