// Package cli implements the strata command: subcommands, flags, output and
// exit codes.
package cli

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitFail  = 1 // the command ran and failed
	ExitUsage = 2 // bad command line or configuration
)

const usage = `strata: object storage, CDN and video cloud in one program

Usage:
  strata serve [--config FILE] [--data DIR] [--s3-addr ADDR] [--admin-addr ADDR] [--edge-addr ADDR]
  strata doctor URL [--origin ADDR] [--resolve HOST:PORT:ADDR] [--expect-cname NAME] [--json] [--timeout D]
  strata purge [--admin URL] [--mode delete|stale] [--wait] [--cluster [--tier T] [--region R] [--nodes IDS]] URL... | --prefix URL | --domain HOST
  strata prefetch [--admin URL] [--wait] [--concurrency N] [--timeout D] [--cluster [--tier T] [--region R] [--nodes IDS]] URL...
  strata logs analyze FILE... [--json] [--html FILE] [--format auto|strata|nginx] [--bucket D]
  strata vod analyze|package --s3 URL --bucket B --key K [--out PREFIX] [--segment D] [--encrypt-key-uri URI] [--strict]
  strata version

Run "strata serve --help" for the serve flags. Credentials for the S3 API
come from STRATA_ACCESS_KEY and STRATA_SECRET_KEY.
`

// Main runs the strata command with args (without the program name) and
// returns the process exit code. ctx is cancelled on SIGINT or SIGTERM.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "doctor":
		return doctor(ctx, args[1:], stdout, stderr)
	case "purge":
		return purge(ctx, args[1:], stdout, stderr)
	case "prefetch":
		return prefetch(ctx, args[1:], stdout, stderr)
	case "logs":
		return logsCmd(ctx, args[1:], stdout, stderr)
	case "vod":
		return vodCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "strata", Version())
		return ExitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(stderr, "strata: unknown command %q\n\n%s", args[0], usage)
		return ExitUsage
	}
}

// Version reports the module version and VCS revision the binary was built
// from, or "devel".
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}
