package lambdafn_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

var suiteNames = []string{"check-auth", "parse-callback", "sign-out"}

func TestSelect(t *testing.T) {
	tests := []struct{ functionName, want string }{
		{"check-auth", "check-auth"},
		{"edgeauth-check-auth", "check-auth"},
		{"prod_parse-callback", "parse-callback"},
		{"my-stack-sign-out", "sign-out"},
		// Lambda@Edge replicas run as <region>.<name>.
		{"us-east-1.edgeauth-sign-out", "sign-out"},
		{"eu-west-3.parse-callback", "parse-callback"},
		{"edgeauth-check-authx", ""},
		{"xcheck-auth", ""},
		{"check-auth-v2", ""},
		{"edgeauth", ""},
		{"us-east-1.", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := lambdafn.Select(tt.functionName, suiteNames)
		if tt.want == "" {
			if !errors.Is(err, lambdafn.ErrUnknownFunction) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.functionName)) {
				t.Errorf("Select(%q) = %q, %v; want ErrUnknownFunction naming the name", tt.functionName, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Select(%q) = %q, %v; want %q", tt.functionName, got, err, tt.want)
		}
	}
}

type fakeHandler struct{ name string }

func (f *fakeHandler) Handle(context.Context, edge.Event) (edge.Result, error) {
	return edge.Result{}, errors.New(f.name)
}

func TestBuilderOf(t *testing.T) {
	b := lambdafn.BuilderOf(func(lambdafn.Deps) (*fakeHandler, error) { return &fakeHandler{"built"}, nil })
	h, err := b(lambdafn.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h(context.Background(), edge.Event{}); err == nil || err.Error() != "built" {
		t.Errorf("handler from BuilderOf = %v, want the built one", err)
	}
	failing := lambdafn.BuilderOf(func(lambdafn.Deps) (*fakeHandler, error) { return nil, errors.New("no config") })
	if h, err := failing(lambdafn.Deps{}); err == nil || h != nil {
		t.Errorf("failing constructor: %v, %v; want its error and no handler", h, err)
	}
}

func ExampleSelect() {
	for _, name := range []string{"us-east-1.edgeauth-check-auth", "edgeauth-sign-out", "other"} {
		fn, err := lambdafn.Select(name, []string{"check-auth", "parse-callback", "sign-out"})
		fmt.Println(fn, err != nil)
	}
	// Output:
	// check-auth false
	// sign-out false
	//  true
}
