package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/strata-cdn/strata/internal/cluster"
	"github.com/strata-cdn/strata/internal/edge"
)

// prefetch runs "strata prefetch": it asks a node's admin API to fetch URLs
// into its edge cache, or with --cluster into the cache of the cluster's
// nodes (case C16). Exit status: 0 started (or, with --wait, every URL
// cached), 1 the API refused or a URL (or a node) failed, 2 usage.
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
	order := fs.String("order", string(cluster.OrderTiers), "with --cluster: `tiers` starts an L1 once the L2 nodes of its region are done; parallel starts all at once")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: strata prefetch [flags] URL...\n"+
			"       strata prefetch --cluster [--tier l1|l2] [--region R] [--nodes ID,...] [--order tiers|parallel] [flags] URL...\n\n"+
			"Fetches URLs into the edge cache of a node through its admin API (docs/admin-api.md); with\n"+
			"--cluster, into the cache of the cluster's nodes through the node at --admin.\n"+
			"Exit status: 0 ok, 1 a URL (or a node) failed or, with --wait-timeout, is unfinished, 2 bad usage.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	urls, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if err := tf.checkCluster(); err != nil {
		fmt.Fprintln(stderr, "strata prefetch:", err)
		return ExitUsage
	}
	if o := cluster.Order(*order); o != cluster.OrderTiers && o != cluster.OrderParallel {
		fmt.Fprintf(stderr, "strata prefetch: --order %q: want tiers or parallel\n", *order)
		return ExitUsage
	} else if o != cluster.OrderTiers && !tf.cluster {
		fmt.Fprintln(stderr, "strata prefetch: --order needs --cluster")
		return ExitUsage
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
	if tf.cluster {
		creq := cluster.PrefetchRequest{Target: tf.clusterTarget(), Order: cluster.Order(*order), URLs: req.URLs,
			Concurrency: req.Concurrency, Timeout: cluster.Duration(req.Timeout), Retries: req.Retries, Header: req.Header,
			NodeTimeout: cluster.Duration(tf.nodeTimeout)}
		return submitClusterTask(ctx, "prefetch", "/cluster/prefetch", creq, &tf, stdout, stderr)
	}
	return submitTask(ctx, "prefetch", "/edge/prefetch", req, &tf, stdout, stderr)
}
