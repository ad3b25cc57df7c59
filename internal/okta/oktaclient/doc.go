// Package oktaclient is the adapter over github.com/okta/okta-sdk-golang/v2:
// the only package that imports that SDK. It speaks the domain types of
// entra2okta/internal/okta and returns *apierr.Error for every failure.
package oktaclient
