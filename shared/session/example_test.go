package session_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

func ExampleStore_EncodeSession() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store, err := session.New(session.Config{
		Prefix:        "edgeauth",
		Secure:        true,
		Keys:          []session.KeyPair{{Hash: bytes.Repeat([]byte{1}, 32), Block: bytes.Repeat([]byte{2}, 32)}},
		RefreshPath:   "/refreshauth",
		SignOutPath:   "/signout",
		ParseAuthPath: "/parseauth",
		Now:           func() time.Time { return now },
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// parse-callback, after verifying the ID token:
	cookie, err := store.EncodeSession(session.Session{
		Identity: verifier.Identity{Subject: "user-1", Groups: []string{"staff"}},
		Expiry:   now.Add(time.Hour),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp := edge.Redirect("/docs", true).SetCookie(cookie)
	fmt.Println(strings.HasPrefix(resp.Headers.Get("Set-Cookie"), "edgeauth-session="))

	// check-auth, on the browser's next request:
	req := &edge.Request{URI: "/docs", Headers: edge.Headers{}}
	req.Headers.Set("Cookie", cookie.Name+"="+cookie.Value)
	sess, err := store.Session(req.Cookies())
	fmt.Println(sess.Identity.Subject, sess.Identity.InGroup("staff"), err)
	// Output:
	// true
	// user-1 true <nil>
}

func ExampleCleanReturnPath() {
	for _, p := range []string{"/docs?page=2", "//evil.com", "/\\evil.com", "https://evil.com", "/%0d%0aSet-Cookie:x"} {
		clean, err := session.CleanReturnPath(p)
		fmt.Printf("%q %q %v\n", p, clean, err)
	}
	// Output:
	// "/docs?page=2" "/docs?page=2" <nil>
	// "//evil.com" "" session: bad return path: starts with // or /\
	// "/\\evil.com" "" session: bad return path: starts with // or /\
	// "https://evil.com" "" session: bad return path: not a path starting with /
	// "/%0d%0aSet-Cookie:x" "" session: bad return path: encoded 0x0d at 1
}
