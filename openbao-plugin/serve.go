// SPDX-License-Identifier: MPL-2.0

package main

import (
	"github.com/hashicorp/go-hclog"
	"github.com/openbao/go-kms-wrapping/plugin/v2"
	wrapping "github.com/openbao/go-kms-wrapping/v2"

	"github.com/ocikms/ocikms/openbao-plugin/adapter"
)

// sensitiveKMSFields are the seal config fields holding secrets, which OpenBao must not display:
// the API-key fields given inline instead of through an OCI config file.
var sensitiveKMSFields = []string{"private_key", "private_key_passphrase"}

// serveOpts is what the plugin serves: an auto-unseal wrapper (no external-keys KMS) and its
// metadata. The SDK hands logger to every wrapper's SetConfig.
func serveOpts(logger hclog.Logger) *plugin.ServeOpts {
	return &plugin.ServeOpts{
		WrapperFactoryFunc: func() wrapping.Wrapper { return adapter.New() },
		Metadata:           plugin.Metadata{SensitiveKMSFields: sensitiveKMSFields},
		Logger:             logger,
	}
}
