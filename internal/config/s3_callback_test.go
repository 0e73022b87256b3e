package config

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestS3CallbackNetworks_C24: s3.callback's networks parse as prefixes or
// addresses; a bad one is reported at its index with what to write.
func TestS3CallbackNetworks_C24(t *testing.T) {
	cfg, err := Parse([]byte("s3:\n  callback: {deny_networks: [10.0.0.0/8, \"::1\"], allow_networks: [10.1.2.3]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	deny, _, err := Prefixes(cfg.S3.Callback.DenyNetworks)
	if err != nil {
		t.Fatal(err)
	}
	allow, _, _ := Prefixes(cfg.S3.Callback.AllowNetworks)
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.1.2.3/32")}
	if diff := cmp.Diff(want, append(deny, allow...), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("prefixes (-want +got):\n%s", diff)
	}
	if cfg, _ := Parse(nil); cfg.S3.Callback.DenyNetworks != nil {
		t.Errorf("default deny_networks = %q, want absent (the built-in list)", cfg.S3.Callback.DenyNetworks)
	}

	_, err = Parse([]byte("s3:\n  callback: {allow_networks: [10.0.0.0/8, 10.0.0.0/33]}\n"))
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Path != "s3.callback.allow_networks[1]" ||
		!strings.Contains(err.Error(), "CIDR prefix") {
		t.Errorf("err = %v, want one problem at s3.callback.allow_networks[1] saying to write a CIDR prefix", err)
	}
}
