package emukit

import "net/http"

// Mux routes requests with http.ServeMux patterns ("GET /api/v1/users/{id}")
// and names the pattern that matched with a route of type R.
type Mux[R ~string] struct {
	mux    *http.ServeMux
	routes map[string]R // by pattern
	known  map[R]bool
}

// NewMux returns an empty Mux.
func NewMux[R ~string]() *Mux[R] {
	return &Mux[R]{mux: http.NewServeMux(), routes: map[string]R{}, known: map[R]bool{}}
}

// Handle serves pattern with h and names it route. Several patterns may
// share a route. It panics on a pattern http.ServeMux refuses.
func (m *Mux[R]) Handle(route R, pattern string, h http.HandlerFunc) {
	m.mux.HandleFunc(pattern, h)
	m.routes[pattern] = route
	m.known[route] = true
}

// Match returns the route of the pattern r matches; false when none does
// (the mux would answer 404 or 405).
func (m *Mux[R]) Match(r *http.Request) (R, bool) {
	_, pattern := m.mux.Handler(r)
	route, ok := m.routes[pattern]
	return route, ok
}

// Known reports whether route names a pattern.
func (m *Mux[R]) Known(route R) bool { return m.known[route] }

// ServeHTTP serves r with the handler of its pattern (setting r's path
// values).
func (m *Mux[R]) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// StatusRecorder remembers the status of the answer written through it.
type StatusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status and passes it on.
func (w *StatusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write passes b on; without a status written before, that is 200.
func (w *StatusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (to drop it).
func (w *StatusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status returns the status written, or 200 when nothing was (what net/http
// answers for a handler that writes nothing).
func (w *StatusRecorder) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Written reports whether a status was written.
func (w *StatusRecorder) Written() bool { return w.status != 0 }
