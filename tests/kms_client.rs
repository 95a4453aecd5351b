// SPDX-License-Identifier: MPL-2.0
//! The KMS client's calls the seal does not make itself, and a missing management endpoint.

mod common;

use common::Emulator;
use ocikms::{CallOptions, ErrorCode};

#[tokio::test]
async fn data_keys_and_key_details() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let key_id = emu.field("key_id");
    let ctx = seal.context(&CallOptions::default());
    let client = seal.client();

    let generated = client.generate_data_encryption_key(&ctx, &key_id, 32, true).await.unwrap();
    let plaintext = generated.plaintext.expect("plaintext requested");
    assert_eq!(plaintext.len(), 32);
    let unwrapped = client.decrypt(&ctx, &key_id, &generated.ciphertext).await.unwrap();
    assert_eq!(*unwrapped, *plaintext);
    let wrapped_only = client.generate_data_encryption_key(&ctx, &key_id, 16, false).await.unwrap();
    assert!(wrapped_only.plaintext.is_none());
    assert_eq!(client.decrypt(&ctx, &key_id, &wrapped_only.ciphertext).await.unwrap().len(), 16);

    let key = client.get_key(&ctx, &key_id).await.unwrap();
    assert_eq!(key.id, key_id);
    assert_eq!(key.current_key_version, seal.key_id());
    assert_eq!(key.lifecycle_state.as_deref(), Some("ENABLED"));
    let encrypted = client.encrypt(&ctx, &key_id, b"raw").await.unwrap();
    assert_eq!(encrypted.key_id.as_deref(), Some(key_id.as_str()));
    assert_eq!(encrypted.key_version_id.as_deref(), Some(key.current_key_version.as_str()));
}

#[tokio::test]
async fn management_calls_need_a_management_endpoint() {
    let emu = Emulator::start();
    let mut map = emu.config_map();
    map.remove("management_endpoint");
    let config = Emulator::config_from(&map);
    assert!(config.management_endpoint.is_none(), "not derivable from a loopback URL");
    let seal = emu.seal_for(config).await.expect("encrypt/decrypt need no management endpoint");
    let blob = seal.encrypt(b"v", &CallOptions::default()).await.unwrap();
    assert!(seal.rewrap(&blob, &CallOptions::default()).await.unwrap().is_none());
    let ctx = seal.context(&CallOptions::default());
    let err = seal.client().get_key(&ctx, &emu.field("key_id")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Config);
    assert!(err.message().contains("management_endpoint"), "{err}");
    assert_eq!(seal.metadata()["management_endpoint"], "");
}
