// SPDX-License-Identifier: MPL-2.0

package adapter

import (
	hcwrapping "github.com/hashicorp/go-kms-wrapping/v2"
	wrapping "github.com/openbao/go-kms-wrapping/v2"

	ocikms "github.com/ocikms/ocikms/go-bindings"
)

// configOptions converts SetConfig's OpenBao options into the binding's: the config map, the key
// id, whether environment variables may override them, and the logger (the plugin SDK's).
func configOptions(opt []wrapping.Option) ([]hcwrapping.Option, error) {
	opts, err := wrapping.GetOpts(opt...)
	if err != nil {
		return nil, err
	}
	out := []hcwrapping.Option{
		hcwrapping.WithConfigMap(opts.WithConfigMap),
		hcwrapping.WithDisallowEnvVars(opts.WithDisallowEnvVars),
	}
	if opts.WithKeyId != "" {
		out = append(out, hcwrapping.WithKeyId(opts.WithKeyId))
	}
	if opts.WithLogger != nil {
		out = append(out, ocikms.WithLogger(opts.WithLogger))
	}
	return out, nil
}

// aadOption converts an Encrypt or Decrypt call's OpenBao options into the binding's WithAad. The
// call's WithKeyId is not used: the key is the one SetConfig configured.
func aadOption(opt []wrapping.Option) (hcwrapping.Option, error) {
	opts, err := wrapping.GetOpts(opt...)
	if err != nil {
		return nil, err
	}
	return hcwrapping.WithAad(opts.WithAad), nil
}
