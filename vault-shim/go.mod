// The module path of HashiCorp's official OCI KMS wrapper, on purpose: a Vault build replaces
// github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2 with this directory (see vault-build/)
// and gets the ocikms Rust library instead of the Go seal, without editing Vault's source.
module github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2

go 1.24.0

require (
	github.com/hashicorp/go-kms-wrapping/v2 v2.0.21
	github.com/ocikms/ocikms/go-bindings v0.0.0-00010101000000-000000000000
)

require (
	github.com/fatih/color v1.13.0 // indirect
	github.com/hashicorp/go-hclog v1.6.3 // indirect
	github.com/hashicorp/go-secure-stdlib/parseutil v0.1.9 // indirect
	github.com/hashicorp/go-secure-stdlib/strutil v0.1.2 // indirect
	github.com/hashicorp/go-sockaddr v1.0.6 // indirect
	github.com/hashicorp/go-uuid v1.0.3 // indirect
	github.com/mattn/go-colorable v0.1.12 // indirect
	github.com/mattn/go-isatty v0.0.14 // indirect
	github.com/mitchellh/mapstructure v1.5.0 // indirect
	github.com/ryanuber/go-glob v1.0.0 // indirect
	golang.org/x/sys v0.38.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

// The binding is not published: it lives beside this module (and cgo finds
// ../target/release/libocikms.a relative to its source).
replace github.com/ocikms/ocikms/go-bindings => ../go-bindings
