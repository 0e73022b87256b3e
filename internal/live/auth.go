package live

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// App is one RTMP application that accepts publishers.
type App struct {
	Name string
	// PublishKey, when set, is accepted as ?key=... on the publish URL.
	PublishKey string
	// SignSecret, when set, accepts signed URLs: ?expires=UNIX&sign=HEX
	// (see Sign).
	SignSecret string
	// Hooks are the app's HTTP callbacks (on_publish, on_unpublish,
	// on_play).
	Hooks Hooks
}

// Policy decides who may publish. With no apps, only publishers on the
// loopback interface may publish, to any app: a fresh node is usable on
// the machine itself without opening RTMP ingest to the network.
type Policy struct {
	Apps []App
}

// App returns the configured app named name.
func (p Policy) App(name string) (App, bool) {
	for _, a := range p.Apps {
		if a.Name == name {
			return a, true
		}
	}
	return App{}, false
}

// Sign returns the signature of a publish URL for app/stream valid until
// expires: hex(HMAC-SHA256(secret, "/app/stream?expires=UNIX")). The
// publish URL is rtmp://HOST/app/stream?expires=UNIX&sign=HEX.
func Sign(secret, app, stream string, expires time.Time) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "/%s/%s?expires=%d", app, stream, expires.Unix())
	return hex.EncodeToString(m.Sum(nil))
}

// Authorize checks a publish of key with the publish URL's query from
// remote at now. Its error wraps ErrUnauthorized and says why in one
// sentence, for the log and the RTMP status description.
func (p Policy) Authorize(key Key, q url.Values, remote net.Addr, now time.Time) error {
	if len(p.Apps) == 0 {
		if isLoopback(remote) {
			return nil
		}
		return fmt.Errorf("publish to %s from %s refused: no apps are configured (live.apps), so only this machine may publish; declare the app with a publish_key: %w", key, remote, ErrUnauthorized)
	}
	var app *App
	for i := range p.Apps {
		if p.Apps[i].Name == key.App {
			app = &p.Apps[i]
			break
		}
	}
	if app == nil {
		return fmt.Errorf("publish to %s refused: app %q is not configured in live.apps: %w", key, key.App, ErrUnauthorized)
	}
	if k := q.Get("key"); k != "" && app.PublishKey != "" {
		if subtle.ConstantTimeCompare([]byte(k), []byte(app.PublishKey)) == 1 {
			return nil
		}
		return fmt.Errorf("publish to %s refused: wrong key for app %q: %w", key, key.App, ErrUnauthorized)
	}
	if sig := q.Get("sign"); sig != "" && app.SignSecret != "" {
		exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
		if err != nil {
			return fmt.Errorf("publish to %s refused: a signed URL needs expires=UNIX-SECONDS: %w", key, ErrUnauthorized)
		}
		want := Sign(app.SignSecret, key.App, key.Name, time.Unix(exp, 0))
		if !hmac.Equal([]byte(sig), []byte(want)) {
			return fmt.Errorf("publish to %s refused: bad signature (sign over \"/%s/%s?expires=%d\"): %w", key, key.App, key.Name, exp, ErrUnauthorized)
		}
		if now.Unix() > exp {
			return fmt.Errorf("publish to %s refused: signed URL expired at %s: %w", key, time.Unix(exp, 0).UTC().Format(time.RFC3339), ErrUnauthorized)
		}
		return nil
	}
	return fmt.Errorf("publish to %s refused: app %q needs ?key=... or a signed URL (?expires=...&sign=...): %w", key, key.App, ErrUnauthorized)
}

func isLoopback(a net.Addr) bool {
	switch t := a.(type) {
	case *net.TCPAddr:
		return t.IP.IsLoopback()
	case nil:
		return false
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
