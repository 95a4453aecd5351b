// SPDX-License-Identifier: MPL-2.0

package ocikms

import (
	"github.com/hashicorp/go-hclog"
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
)

// OptionFunc holds a function with local options (the go-kms-wrapping convention).
type OptionFunc func(*options) error

// options are the parsed global (wrapping) and local options of a call.
type options struct {
	*wrapping.Options

	withLogger hclog.Logger
	// config holds values set by the option functions below; they override WithConfigMap.
	config map[string]any
}

// setConfig records a config value set by an option function.
func (o *options) setConfig(key string, value any) {
	if o.config == nil {
		o.config = map[string]any{}
	}
	o.config[key] = value
}

// WithCryptoEndpoint sets the crypto endpoint (as the Go ocikms wrapper's option does).
func WithCryptoEndpoint(with string) wrapping.Option {
	return func() any {
		return OptionFunc(func(o *options) error {
			o.setConfig(KmsConfigCryptoEndpoint, with)
			return nil
		})
	}
}

// WithManagementEndpoint sets the management endpoint (as the Go ocikms wrapper's option does).
func WithManagementEndpoint(with string) wrapping.Option {
	return func() any {
		return OptionFunc(func(o *options) error {
			o.setConfig(KmsConfigManagementEndpoint, with)
			return nil
		})
	}
}

// WithAuthTypeApiKey selects API-key auth from the OCI config file (as the Go ocikms wrapper's
// option does); false means instance principal.
func WithAuthTypeApiKey(with bool) wrapping.Option {
	return func() any {
		return OptionFunc(func(o *options) error {
			o.setConfig(KmsConfigAuthTypeApiKey, with)
			return nil
		})
	}
}

// WithLogger routes the library's log lines to logger (default: none, as Vault's stock seal logs
// nothing).
// The library's log routing is process-wide: the most recent logger given wins.
func WithLogger(logger hclog.Logger) wrapping.Option {
	return func() any {
		return OptionFunc(func(o *options) error {
			o.withLogger = logger
			return nil
		})
	}
}

// getOpts splits the options into go-kms-wrapping's and ours, and applies both.
func getOpts(opt ...wrapping.Option) (*options, error) {
	var global []wrapping.Option
	var local []OptionFunc
	for _, o := range opt {
		if o == nil {
			continue
		}
		switch f := o().(type) {
		case wrapping.OptionFunc:
			global = append(global, o)
		case OptionFunc:
			local = append(local, f)
		}
	}
	parsed, err := wrapping.GetOpts(global...)
	if err != nil {
		return nil, err
	}
	opts := &options{Options: parsed}
	if opts.Options == nil {
		opts.Options = new(wrapping.Options)
	}
	for _, f := range local {
		if err := f(opts); err != nil {
			return nil, err
		}
	}
	return opts, nil
}
