package localedge

import (
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// dirOrigin serves a folder the way CloudFront sees a private S3 bucket
// behind origin access control whose policy grants s3:GetObject (and, with
// listBucket, s3:ListBucket):
//
//   - GET and HEAD read objects; any other method is 403 AccessDenied, as S3
//     answers a write the policy does not grant.
//   - The key is the decoded URI path without its leading "/", decoded as S3
//     decodes a REST object path: a literal "+" is a space (a long-standing
//     S3 quirk), and only then are %XX escapes decoded, so "/a+b" reads the
//     key "a b" and "/a%2Bb" the key "a+b".
//   - There are no index documents: S3's REST endpoint, which origin
//     access control uses, serves keys only. "/docs/" is the key "docs/",
//     which is no object; rewriting it to "docs/index.html" is the
//     viewer-request function's job, as on AWS.
//   - A missing key is 403 AccessDenied: without s3:ListBucket S3 will not
//     say whether a key exists, and that 403 is what a viewer of a real OAC
//     distribution sees. With listBucket it is 404 NoSuchKey, and the bucket
//     itself (the empty key) answers with the list of its keys, as
//     ListObjectsV2 would. Folders are not objects either way.
//   - os.Root confines every open to the folder: "..", absolute paths and
//     symlinks that leave it all fail, and fail as a missing key.
type dirOrigin struct {
	root       *os.Root
	listBucket bool
}

func newDirOrigin(dir string, listBucket bool) (*dirOrigin, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &dirOrigin{root: root, listBucket: listBucket}, nil
}

func (d *dirOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s3Denied(w)
		return
	}
	key, ok := s3Key(r.URL.EscapedPath())
	if !ok {
		s3Denied(w)
		return
	}
	if key == "" && d.listBucket {
		d.list(w)
		return
	}
	name := filepath.FromSlash(key)
	if key == "" || strings.HasSuffix(key, "/") || !filepath.IsLocal(name) {
		d.missing(w, key)
		return
	}
	f, err := d.root.Open(name)
	if err != nil {
		d.missing(w, key)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		d.missing(w, key)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType(key))
	h.Set("ETag", fmt.Sprintf(`"%x-%x"`, fi.ModTime().UnixNano(), fi.Size()))
	h.Set("Server", "AmazonS3")
	h.Set("X-Cache", "Miss from cloudfront")
	// ServeContent handles HEAD, Range and the conditional headers as S3 does.
	http.ServeContent(w, r, key, fi.ModTime(), f)
}

// missing answers for a key that is not an object: 404 NoSuchKey when the
// policy grants s3:ListBucket, 403 AccessDenied when it does not.
func (d *dirOrigin) missing(w http.ResponseWriter, key string) {
	if !d.listBucket {
		s3Denied(w)
		return
	}
	var k strings.Builder
	_ = xml.EscapeText(&k, []byte(key))
	s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", "<Key>"+k.String()+"</Key>")
}

// list answers a request for the bucket itself with its keys (the first
// thousand), as S3 lists a bucket for a caller allowed s3:ListBucket.
func (d *dirOrigin) list(w http.ResponseWriter) {
	var keys []string
	_ = fs.WalkDir(d.root.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || len(keys) >= 1000 {
			return fs.SkipDir
		}
		if e.Type().IsRegular() {
			keys = append(keys, p)
		}
		return nil
	})
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	for _, k := range keys {
		b.WriteString("<Contents><Key>")
		_ = xml.EscapeText(&b, []byte(k))
		b.WriteString("</Key></Contents>")
	}
	b.WriteString("</ListBucketResult>")
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Server", "AmazonS3")
	h.Set("X-Cache", "Miss from cloudfront")
	_, _ = io.WriteString(w, b.String())
}

// s3Key decodes a raw (still escaped) URI path into the object key the way
// S3 does: "+" to space first, then the percent escapes, then the leading
// "/" dropped.
func s3Key(rawPath string) (string, bool) {
	p, err := url.PathUnescape(strings.ReplaceAll(rawPath, "+", " "))
	if err != nil {
		return "", false
	}
	return strings.TrimPrefix(p, "/"), true
}

// contentType picks the type from the extension, as `aws s3 sync` does on
// upload; S3's own default for an untyped object is binary/octet-stream.
func contentType(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "binary/octet-stream"
}

// s3Denied writes S3's AccessDenied error document.
func s3Denied(w http.ResponseWriter) {
	s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied", "")
}

// s3Error writes an S3 error document.
func s3Error(w http.ResponseWriter, code int, s3Code, message, extra string) {
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Server", "AmazonS3")
	h.Set("X-Cache", "Error from cloudfront")
	w.WriteHeader(code)
	_, _ = fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>`+s3Code+`</Code><Message>`+message+`</Message>`+extra+`</Error>`)
}

// newProxy reverse-proxies to the upstream URL. The outbound request carries
// the headers the function returned and nothing the viewer sent besides
// them, plus what CloudFront adds on the way to an origin: Via,
// X-Amz-Cf-Id and X-Forwarded-For. Host is the request's Host header: the
// viewer's at a viewer-request behavior (as with an origin request policy
// that forwards all viewer headers), the upstream's own at an origin-request
// behavior unless its policy forwards the viewer's.
func (s *Server) newProxy() http.Handler {
	return &httputil.ReverseProxy{
		Transport: s.transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(s.upstream)
			pr.Out.Host = pr.In.Host
			// Rewrite starts from a copy with hop-by-hop and X-Forwarded-*
			// headers stripped; rebuild it from the returned request.
			pr.Out.Header = pr.In.Header.Clone()
			if pr.Out.Header == nil {
				pr.Out.Header = http.Header{}
			}
			pr.Out.Header.Set("Via", s.viaValue())
			out, _ := pr.In.Context().Value(outcomeKey{}).(*outcome)
			if out == nil {
				return
			}
			pr.Out.Header.Set("X-Amz-Cf-Id", out.reqID)
			// An origin-request event already carries X-Forwarded-For.
			if out.eventType != OriginRequest {
				xff := clientIP(pr.In)
				if prior := pr.Out.Header.Values("X-Forwarded-For"); len(prior) > 0 {
					xff = strings.Join(prior, ", ") + ", " + xff
				}
				pr.Out.Header.Set("X-Forwarded-For", xff)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Set("X-Cache", "Miss from cloudfront")
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var reqID string
			if out, ok := r.Context().Value(outcomeKey{}).(*outcome); ok {
				out.decision, out.rule, out.err = DecisionError, RuleOrigin, err
				reqID = out.reqID
			}
			writeError(w, http.StatusBadGateway, "Error from cloudfront", RuleOrigin, reqID)
		},
	}
}

// Close releases the origin folder.
func (s *Server) Close() error {
	if d, ok := s.origin.(*dirOrigin); ok {
		return d.root.Close()
	}
	return nil
}
