package localedge_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/shared/edge"
)

func ExampleMatchPattern() {
	fmt.Println(localedge.MatchPattern("/parseauth*", "/parseauth"))
	fmt.Println(localedge.MatchPattern("/images/*.jpg", "/images/2026/cat.jpg"))
	fmt.Println(localedge.MatchPattern("/Admin/*", "/admin/x"))
	// Output:
	// true
	// true
	// false
}

// ExampleNew wires an in-process function in front of a folder origin.
func ExampleNew() {
	cfg := &localedge.Config{
		Behaviors: []localedge.Behavior{
			{PathPattern: "/signout*", Function: "sign-out"},
			{PathPattern: "*"}, // the default behavior, without a function
		},
		Origin: localedge.Origin{Dir: "../../testdata/localedge/site"},
	}
	signOut := func(ctx context.Context, ev edge.Event) (edge.Result, error) {
		return edge.Respond(edge.Redirect("/", false)), nil
	}
	s, err := localedge.New(cfg, map[string]localedge.Function{"sign-out": signOut}, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	srv := httptest.NewServer(s) // cmd/localedge would http.ListenAndServe(s.Listen(), s)
	defer srv.Close()

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/signout", "/docs/index.html"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d %s %q\n", path, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	// Output:
	// /signout 302 / ""
	// /docs/index.html 200  "<!DOCTYPE html><title>docs</title><p>docs index</p>\n"
}
