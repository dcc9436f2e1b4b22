package oidcprovider

import "github.com/chromedp/chromedp"

// BrowserLogin fills in and submits the provider's sign-in form (inputs
// #login and #password, button #submit-login: the same ids as Dex's form)
// once it is visible. The consent step that follows is automatic. It does
// not wait for what comes after; follow it with a WaitVisible on the page
// expected next. With a provider session already in the browser there is
// no form: do not run it then.
func BrowserLogin(u User) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible("#login", chromedp.ByID),
		chromedp.SendKeys("#login", u.Email, chromedp.ByID),
		chromedp.SendKeys("#password", u.Password, chromedp.ByID),
		chromedp.Click("#submit-login", chromedp.ByID),
	}
}

// BrowserCancel presses the sign-in form's Cancel button: the provider
// sends the browser back to the client with error=access_denied.
func BrowserCancel() chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible("#cancel-login", chromedp.ByID),
		chromedp.Click("#cancel-login", chromedp.ByID),
	}
}
