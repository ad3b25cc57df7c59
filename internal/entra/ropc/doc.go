// Package ropc is the password verifier over MSAL Go's public-client ROPC
// (resource owner password credentials) flow: the only package that imports
// github.com/AzureAD/microsoft-authentication-library-for-go. It answers with
// the SDK-free types of entra2okta/internal/entra.
package ropc
