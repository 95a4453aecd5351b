// SPDX-License-Identifier: MPL-2.0
//! Key rotation against the emulator: old blobs still decrypt, `key_id` follows the new version,
//! `rewrap` moves blobs to it.

mod common;

use common::Emulator;
use ocikms::CallOptions;

#[tokio::test]
async fn rotation_keeps_old_blobs_readable_and_moves_key_id() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let opts = CallOptions { aad: Some(b"path".to_vec()), ..CallOptions::default() };
    let direct = CallOptions { without_envelope: true, ..CallOptions::default() };
    let old_version = seal.key_id();
    let old_blob = seal.encrypt(b"before rotation", &opts).await.unwrap();
    let old_direct = seal.encrypt(b"direct before", &direct).await.unwrap();

    let key_id = emu.field("key_id");
    let ctx = seal.context(&CallOptions::default());
    let created = seal.client().create_key_version(&ctx, &key_id).await.unwrap();
    assert_eq!(created.key_id, key_id);
    assert_ne!(created.id, old_version);
    let fetched = seal.client().get_key_version(&ctx, &key_id, &created.id).await.unwrap();
    assert_eq!(fetched.id, created.id);
    let key = seal.client().get_key(&ctx, &key_id).await.unwrap();
    assert_eq!(key.current_key_version, created.id);

    // The cached version only moves with the next encrypt, as in Go.
    assert_eq!(seal.key_id(), old_version);
    let new_blob = seal.encrypt(b"after rotation", &opts).await.unwrap();
    assert_eq!(seal.key_id(), created.id);
    assert_eq!(new_blob.key_info.as_ref().unwrap().key_id, created.id);

    assert_eq!(&*seal.decrypt(&old_blob, &opts).await.unwrap(), b"before rotation");
    assert_eq!(
        &*seal.decrypt(&old_direct, &CallOptions::default()).await.unwrap(),
        b"direct before"
    );
    assert_eq!(&*seal.decrypt(&new_blob, &opts).await.unwrap(), b"after rotation");

    let rewrapped = seal.rewrap(&old_blob, &opts).await.unwrap().expect("old blob is rewrapped");
    assert_eq!(rewrapped.key_info.as_ref().unwrap().key_id, created.id);
    assert_eq!(&*seal.decrypt(&rewrapped, &opts).await.unwrap(), b"before rotation");
    let rewrapped_direct =
        seal.rewrap(&old_direct, &CallOptions::default()).await.unwrap().unwrap();
    assert_eq!(rewrapped_direct.key_info.as_ref().unwrap().mechanism, 1);
    assert!(seal.rewrap(&new_blob, &opts).await.unwrap().is_none());
}

#[tokio::test]
async fn rewrap_notices_a_rotation_made_elsewhere() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let other = emu.seal().await;
    let blob = seal.encrypt(b"v", &CallOptions::default()).await.unwrap();
    let ctx = other.context(&CallOptions::default());
    let created = other.client().create_key_version(&ctx, &emu.field("key_id")).await.unwrap();
    let rewrapped = seal.rewrap(&blob, &CallOptions::default()).await.unwrap().unwrap();
    assert_eq!(rewrapped.key_info.unwrap().key_id, created.id);
    assert_eq!(seal.key_id(), created.id);
}
