package oidcprovider

import "github.com/edgeauth/edgeauth/internal/dex"

// User is one account of the provider.
type User struct {
	// Subject is the sub claim (oidc-provider's account id).
	Subject  string
	Email    string // the login name on the sign-in form
	Password string // plain text; it stays on loopback
	Username string // preferred_username
	Name     string // name
	// Groups are delivered as realm_access.roles, Keycloak's shape.
	Groups []string
}

// DemoUsers returns the Dex demo's users (alice: admins, staff; bob: staff)
// with the same emails, passwords, names and groups, and the same sub claim
// as Dex issues them, so the demo site's per-user pages and the
// /users/{sub}/ rule work with either provider.
func DemoUsers() []User {
	var out []User
	for _, u := range dex.DemoUsers() {
		out = append(out, User{
			Subject:  u.Subject(),
			Email:    u.Email,
			Password: u.Password,
			Username: u.Username,
			Name:     u.Username,
			Groups:   append([]string(nil), u.Groups...),
		})
	}
	return out
}
