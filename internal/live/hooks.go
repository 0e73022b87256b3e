package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Hook actions, the "action" of a hook's JSON body.
const (
	ActionPublish   = "on_publish"
	ActionUnpublish = "on_unpublish"
	ActionPlay      = "on_play"
)

// DefaultHookTimeout is used when Hooks.Timeout is zero.
const DefaultHookTimeout = 5 * time.Second

// Errors callers branch on.
var (
	// ErrHookDenied: the hook answered with a refusal (a non-2xx status
	// other than 5xx); the wrapping error carries its reason.
	ErrHookDenied = errors.New("refused by hook")
	// ErrHookFailed: the hook could not give an answer (unreachable,
	// timed out, 5xx) and the app denies on hook failure.
	ErrHookFailed = errors.New("hook failed")
)

// Hooks are an app's HTTP callbacks, as in SRS and nginx-rtmp: Strata
// POSTs a JSON HookEvent to each URL. on_publish and on_play decide: a
// 2xx answer allows, any other answer denies with the body as the reason;
// a hook that fails (unreachable, timeout, 5xx) denies unless
// AllowOnFailure. on_unpublish only notifies.
type Hooks struct {
	OnPublish, OnUnpublish, OnPlay string
	// Timeout bounds one hook call. If zero, DefaultHookTimeout is used.
	Timeout time.Duration
	// AllowOnFailure lets a publish or play go ahead when its hook fails;
	// the default, false, refuses it (as SRS does).
	AllowOnFailure bool
}

// HookEvent is the JSON body of a hook call.
type HookEvent struct {
	Action     string            `json:"action"`
	App        string            `json:"app"`
	Stream     string            `json:"stream"`
	ClientAddr string            `json:"client_addr"`
	Params     map[string]string `json:"params"`
	Node       string            `json:"node"`
	// Protocol is how an on_play viewer plays: "flv" or "hls".
	Protocol string `json:"protocol,omitempty"`
	// Session is the publish session (on_publish has none yet).
	Session string `json:"session,omitempty"`
}

// Params flattens a URL query for a HookEvent: the first value of each
// key.
func Params(q url.Values) map[string]string {
	out := make(map[string]string, len(q))
	for k, v := range q {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

// HookClient calls hooks. Its zero value is ready to use.
type HookClient struct {
	// Client makes the calls; nil means a client of its own.
	Client *http.Client
	// Logger receives hook failures and refusals. Nil means discard.
	Logger *slog.Logger
	// NodeID fills HookEvent.Node.
	NodeID string

	wg sync.WaitGroup // notifications in flight
}

func (c *HookClient) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// hookHTTP is the client of a HookClient without one: no proxy from the
// environment, since hooks are the operator's own services.
var hookHTTP = &http.Client{Transport: &http.Transport{
	MaxIdleConnsPerHost: 8,
	IdleConnTimeout:     90 * time.Second,
}}

func (c *HookClient) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return hookHTTP
}

// Check calls the decision hook of ev.Action (on_publish or on_play) in
// hooks, if one is set. It returns nil to allow; to deny, an error that
// says why in one sentence, wrapping ErrHookDenied (the hook refused) or
// ErrHookFailed (the hook failed and the app denies on failure).
func (c *HookClient) Check(ctx context.Context, hooks Hooks, ev HookEvent) error {
	u := hooks.OnPublish
	if ev.Action == ActionPlay {
		u = hooks.OnPlay
	}
	if u == "" {
		return nil
	}
	what := "publish"
	if ev.Action == ActionPlay {
		what = "play"
	}
	status, reason, err := c.call(ctx, hooks, u, ev)
	log := c.log().With("hook", ev.Action, "url", u, "stream", ev.App+"/"+ev.Stream, "client", ev.ClientAddr)
	switch {
	case err == nil && status/100 == 2:
		return nil
	case err == nil && status/100 != 5:
		log.Info("hook refused", "status", status, "reason", reason)
		return fmt.Errorf("%s of %s/%s refused by the %s hook (%d): %s: %w", what, ev.App, ev.Stream, ev.Action, status, reason, ErrHookDenied)
	}
	if err == nil {
		err = fmt.Errorf("answered %d: %s", status, reason)
	}
	if hooks.AllowOnFailure {
		log.Warn("hook failed; allowing, as the app's hooks.on_failure is allow", "err", err.Error())
		return nil
	}
	log.Error("hook failed; refusing, as the app's hooks.on_failure is deny", "err", err.Error())
	return fmt.Errorf("%s of %s/%s refused: the %s hook %s failed (%v), and the app refuses when its hook fails: %w", what, ev.App, ev.Stream, ev.Action, u, err, ErrHookFailed)
}

// Notify calls the on_unpublish hook in the background, if one is set; a
// failure is logged. Wait waits for the calls in flight.
func (c *HookClient) Notify(hooks Hooks, ev HookEvent) {
	if hooks.OnUnpublish == "" {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		status, reason, err := c.call(context.Background(), hooks, hooks.OnUnpublish, ev)
		if err == nil && status/100 != 2 {
			err = fmt.Errorf("answered %d: %s", status, reason)
		}
		if err != nil {
			c.log().Warn("hook failed", "hook", ev.Action, "url", hooks.OnUnpublish, "stream", ev.App+"/"+ev.Stream, "err", err.Error())
		}
	}()
}

// Wait waits for the notifications in flight.
func (c *HookClient) Wait() { c.wg.Wait() }

// maxReason bounds the reason taken from a hook's answer.
const maxReason = 300

// call POSTs ev to u and returns the answer's status and reason.
func (c *HookClient) call(ctx context.Context, hooks Hooks, u string, ev HookEvent) (int, string, error) {
	if ev.Node == "" {
		ev.Node = c.NodeID
	}
	if ev.Params == nil {
		ev.Params = map[string]string{}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, "", err
	}
	timeout := hooks.Timeout
	if timeout <= 0 {
		timeout = DefaultHookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "strata-live-hook")
	resp, err := c.client().Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, "", fmt.Errorf("no answer within %v", timeout)
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil && resp.StatusCode/100 == 2 {
		// The status decided; an unreadable body does not matter.
		err = nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, reasonOf(resp.StatusCode, raw), nil
}

// reasonOf takes a refusal's reason from the answer: a JSON object's
// "reason", "message" or "error" string, or else the text's first line.
func reasonOf(status int, raw []byte) string {
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		for _, k := range []string{"reason", "message", "error"} {
			if s, ok := obj[k].(string); ok && s != "" {
				return clip(s)
			}
		}
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return http.StatusText(status)
	}
	return clip(line)
}

func clip(s string) string {
	if len(s) > maxReason {
		return s[:maxReason] + "..."
	}
	return s
}
