package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/strata-cdn/strata/internal/edge"
)

// prefetch runs "strata prefetch": it asks a node's admin API to fetch URLs
// into its edge cache. Exit status: 0 started (or, with --wait, every URL
// cached), 1 the API refused or a URL failed, 2 usage.
func prefetch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return prefetchWithStdin(ctx, args, os.Stdin, stdout, stderr)
}

func prefetchWithStdin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strata prefetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf taskFlags
	tf.register(fs)
	var req edge.PrefetchRequest
	fs.IntVar(&req.Concurrency, "concurrency", edge.DefaultPrefetchConcurrency, "URLs fetched at a time (`N`, at most 64)")
	timeout := fs.Duration("timeout", edge.DefaultPrefetchTimeout, "time limit of each attempt at each URL")
	retries := fs.Int("retries", edge.DefaultPrefetchRetries, "retries of a URL after a timeout, a cut body or a 5xx")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: strata prefetch [flags] URL...\n\nFetches URLs into the edge cache of a node through its admin API (docs/admin-api.md).\nExit status: 0 ok, 1 a URL failed, 2 bad usage.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	urls, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if tf.file != "" {
		more, err := readURLFile(tf.file, stdin)
		if err != nil {
			fmt.Fprintln(stderr, "strata prefetch:", err)
			return ExitUsage
		}
		urls = append(urls, more...)
	}
	if len(urls) == 0 {
		fmt.Fprintln(stderr, "strata prefetch: give at least one URL")
		fs.Usage()
		return ExitUsage
	}
	if *timeout <= 0 || *retries < 0 {
		fmt.Fprintln(stderr, "strata prefetch: --timeout must be positive and --retries not negative")
		return ExitUsage
	}
	req.URLs = urls
	req.Timeout = edge.Duration(*timeout)
	req.Retries = retries
	return submitTask(ctx, "prefetch", "/edge/prefetch", req, &tf, stdout, stderr)
}
