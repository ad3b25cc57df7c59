package oktaspec

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

// Transport wraps next (http.DefaultTransport if nil) so that every
// exchange through it is validated with Check and recorded in rep. The
// caller still receives the response unchanged: violations never turn into
// transport errors, so the code under test sees what it would see without
// the layer.
func (s *Spec) Transport(next http.RoundTripper, rep *Report) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{spec: s, next: next, rep: rep}
}

type transport struct {
	spec *Spec
	next http.RoundTripper
	rep  *Report
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		// RoundTrippers must not modify the request; send a copy with the
		// buffered body.
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return nil, rerr
	}
	vs, excused, op := t.spec.Check(context.WithoutCancel(req.Context()), Exchange{
		Request: req, RequestBody: reqBody, Status: resp.StatusCode, Header: resp.Header, Body: body,
	})
	t.rep.add(op, resp.StatusCode, vs, excused)
	return resp, nil
}

// Middleware wraps next (for example a fakeokta.Server) so that every
// exchange it serves is validated with Check and recorded in rep. The
// response is passed through unchanged.
func (s *Spec) Middleware(next http.Handler, rep *Report) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, ok := serveTee(w, r, next)
		if !ok {
			return
		}
		vs, excused, op := s.Check(context.WithoutCancel(r.Context()), x)
		rep.add(op, x.Status, vs, excused)
	})
}

// HookMiddleware wraps a password import hook handler (ours, or any) so
// that every exchange is validated both ways, the request with
// CheckHookRequest and the response with CheckHookResponse, and recorded in
// rep under HookOperation. Put it between fakeokta and the hook to check
// both sides of the inline hook call at once.
func (s *Spec) HookMiddleware(next http.Handler, rep *Report) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, ok := serveTee(w, r, next)
		if !ok {
			return
		}
		ctx := context.WithoutCancel(r.Context())
		vs := s.CheckHookRequest(ctx, x.Request, x.RequestBody)
		rvs, excused := s.CheckHookResponse(ctx, x.Status, x.Header, x.Body)
		rep.add(HookOperation, x.Status, append(vs, rvs...), excused)
	})
}

// serveTee serves r with next while recording the exchange. It answers 400
// itself (ok false) if the request body cannot be read.
func serveTee(w http.ResponseWriter, r *http.Request, next http.Handler) (Exchange, bool) {
	var reqBody []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "oktaspec: reading request body: "+err.Error(), http.StatusBadRequest)
			return Exchange{}, false
		}
		reqBody = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	// Validation looks at what the client sent, before the handler can
	// change the request.
	orig := r.Clone(r.Context())
	tw := &teeWriter{ResponseWriter: w}
	next.ServeHTTP(tw, r)
	status := tw.status
	if status == 0 {
		status = http.StatusOK
	}
	header := tw.header
	if header == nil {
		header = w.Header().Clone()
	}
	return Exchange{Request: orig, RequestBody: reqBody, Status: status, Header: header, Body: tw.body.Bytes()}, true
}

// teeWriter passes a response through while keeping its status, headers
// (as of WriteHeader) and body.
type teeWriter struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

func (t *teeWriter) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
		t.header = t.ResponseWriter.Header().Clone()
		if t.header.Get("Date") == "" {
			// net/http adds Date after the handler's WriteHeader; record
			// what the client will receive.
			t.header.Set("Date", nowHTTP())
		}
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.WriteHeader(http.StatusOK)
	}
	t.body.Write(b)
	return t.ResponseWriter.Write(b)
}

// Flush implements http.Flusher when the underlying writer does.
func (t *teeWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// nowHTTP is the Date header value net/http would send now.
func nowHTTP() string { return time.Now().UTC().Format(http.TimeFormat) }
