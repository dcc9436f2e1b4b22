package demo

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/edgeauth/edgeauth/shared/config"
)

// Reachability returns what in cfg keeps a browser on edgeURL (the local
// edge, http://host:port) from signing in, each with the change that fixes
// it, or nil when the suite builds its URLs on edgeURL. distribution is the
// edge's distributionDomainName, which the suite falls back to without
// hosts.
//
// A config written for a deployment (https, the site's own host) starts
// here without complaint and serves public pages and Bearer calls, but the
// IdP would send every browser login back to the deployed site: the
// redirect URI, the sign-out return and the realm are built from scheme
// and hosts (config.PublicOrigin). A cookie domain the edge's host is not
// under makes the browser drop every cookie the suite sets.
func Reachability(cfg *config.Config, edgeURL, distribution string) []string {
	u, err := url.Parse(edgeURL)
	if err != nil || u.Host == "" {
		return []string{fmt.Sprintf("the edge's address %q does not parse as a URL", edgeURL)}
	}
	edgeOrigin := u.Scheme + "://" + u.Host
	var problems []string
	if got := cfg.PublicOrigin(distribution, u.Host); !strings.EqualFold(got, edgeOrigin) {
		var change []string
		if cfg.Scheme != u.Scheme {
			change = append(change, fmt.Sprintf(`set "scheme": %q (now %q)`, u.Scheme, cfg.Scheme))
		}
		if !slices.ContainsFunc(cfg.Hosts, func(h string) bool { return strings.EqualFold(h, u.Host) }) {
			change = append(change, fmt.Sprintf(`put %q in "hosts" (now %q)`, u.Host, cfg.Hosts))
		}
		problems = append(problems, fmt.Sprintf(
			"logins cannot finish on %s: the suite sends the IdP the redirect URI %s%s, not %s%s. "+
				"For a local run %s, and register %s%s with the IdP as a callback URL (and %s%s as a sign-out URL)",
			edgeOrigin, got, cfg.Paths.ParseAuth, edgeOrigin, cfg.Paths.ParseAuth,
			strings.Join(change, " and "), edgeOrigin, cfg.Paths.ParseAuth, edgeOrigin, cfg.Paths.AfterSignOut))
	}
	if d := strings.TrimPrefix(strings.ToLower(cfg.Cookies.Domain), "."); d != "" {
		host := strings.ToLower(u.Hostname())
		if host != d && !strings.HasSuffix(host, "."+d) {
			problems = append(problems, fmt.Sprintf(
				`cookies.domain %q does not cover %s: the browser drops every cookie the suite sets there. Leave "domain" out of "cookies" for a local run`,
				cfg.Cookies.Domain, u.Hostname()))
		}
	}
	return problems
}
