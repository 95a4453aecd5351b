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
}

// WithLogger routes the library's log lines to logger (default: hclog.Default() named "ocikms").
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
