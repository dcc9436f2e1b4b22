// Package templates holds the suite's HTML page templates (html/template
// syntax), embedded so the functions read no files at run time. Operators
// may restyle them; shared/page renders them and documents the data each
// receives.
package templates

import "embed"

// FS holds layout.html, the page all kinds share, and error.html,
// forbidden.html and signed-out.html, which fill it in.
//
//go:embed *.html
var FS embed.FS
