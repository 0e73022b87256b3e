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

// purge runs "strata purge": it asks a node's admin API to purge URLs, a
// prefix or a domain from its edge cache, or with --cluster from the cache
// of the cluster's nodes (case C16). Exit status: 0 started (or, with
// --wait, every item purged), 1 the API refused or an item (or a node)
// failed, 2 usage.
func purge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return purgeWithStdin(ctx, args, os.Stdin, stdout, stderr)
}

func purgeWithStdin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strata purge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf taskFlags
	tf.register(fs)
	var req edge.PurgeRequest
	mode := fs.String("mode", string(edge.PurgeDelete), "`delete` removes the entries; stale makes the next request revalidate with the origin")
	fs.StringVar(&req.Prefix, "prefix", "", "purge every cached URL starting with this absolute `URL`")
	fs.StringVar(&req.Domain, "domain", "", "purge everything cached for this `host`")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: strata purge [flags] URL... | --prefix URL | --domain HOST\n"+
			"       strata purge --cluster [--tier l1|l2] [--region R] [--nodes ID,...] [flags] URL... | --prefix URL | --domain HOST\n\n"+
			"Purges the edge cache of a node through its admin API (docs/admin-api.md); with --cluster,\n"+
			"of the cluster's nodes (L2 before L1) through the node at --admin.\n"+
			"Exit status: 0 ok, 1 the purge failed (on some node), 2 bad usage.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	urls, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if err := tf.checkCluster(); err != nil {
		fmt.Fprintln(stderr, "strata purge:", err)
		return ExitUsage
	}
	if tf.file != "" {
		more, err := readURLFile(tf.file, stdin)
		if err != nil {
			fmt.Fprintln(stderr, "strata purge:", err)
			return ExitUsage
		}
		urls = append(urls, more...)
	}
	req.URLs = urls
	req.Mode = edge.PurgeMode(*mode)
	if req.Mode != edge.PurgeDelete && req.Mode != edge.PurgeStale {
		fmt.Fprintf(stderr, "strata purge: --mode %q: want delete or stale\n", *mode)
		return ExitUsage
	}
	n := 0
	for _, set := range []bool{len(urls) > 0, req.Prefix != "", req.Domain != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		fmt.Fprintln(stderr, "strata purge: give URLs, or --prefix, or --domain (exactly one of them)")
		fs.Usage()
		return ExitUsage
	}
	if tf.cluster {
		creq := cluster.PurgeRequest{Target: tf.clusterTarget(), URLs: req.URLs, Prefix: req.Prefix, Domain: req.Domain,
			Mode: string(req.Mode), NodeTimeout: cluster.Duration(tf.nodeTimeout)}
		return submitClusterTask(ctx, "purge", "/cluster/purge", creq, &tf, stdout, stderr)
	}
	return submitTask(ctx, "purge", "/edge/purge", req, &tf, stdout, stderr)
}
