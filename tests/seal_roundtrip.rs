// SPDX-License-Identifier: MPL-2.0
//! The seal against the emulator: init, both mechanisms, AAD, stored forms, blocking facade.

mod common;

use common::Emulator;
use ocikms::blob::{BlobInfo, MultiWrapValue, MECHANISM_DIRECT, MECHANISM_ENVELOPE};
use ocikms::{BlockingSeal, CallOptions, ErrorCode};

fn aad(bytes: &[u8]) -> CallOptions {
    CallOptions { aad: Some(bytes.to_vec()), ..CallOptions::default() }
}

#[tokio::test]
async fn init_validates_and_caches_the_key_version() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let version = seal.key_id();
    assert!(version.starts_with("ocid1.keyversion."), "key version {version:?}");
    let meta = seal.metadata();
    assert_eq!(meta["key_id"], emu.field("key_id"));
    assert_eq!(meta["crypto_endpoint"], emu.field("crypto_endpoint"));
    assert_eq!(meta["management_endpoint"], emu.field("management_endpoint"));
    assert_eq!(meta["principal_type"], "user");
    // One round trip at init: the Encrypt response names the version, no GetKey needed.
    assert_eq!(emu.total("encrypt").await, 1);
    assert_eq!(emu.total("getKey").await, 0);
}

#[tokio::test]
async fn envelope_round_trip_with_aad() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let blob = seal.encrypt(b"barrier keyring", &aad(b"core/keyring")).await.unwrap();
    let info = blob.key_info.as_ref().unwrap();
    assert_eq!(info.mechanism, MECHANISM_ENVELOPE);
    assert_eq!(info.key_id, seal.key_id());
    assert_eq!(blob.iv.len(), 12);
    assert_eq!(blob.ciphertext.len(), b"barrier keyring".len() + 16);
    assert!(std::str::from_utf8(&info.wrapped_key).is_ok(), "wrapped key is OCI's base64 text");

    let stored = blob.encode_bytes();
    let decoded = BlobInfo::decode_bytes(&stored).unwrap();
    let plaintext = seal.decrypt(&decoded, &aad(b"core/keyring")).await.unwrap();
    assert_eq!(&*plaintext, b"barrier keyring");

    let wrong = seal.decrypt(&decoded, &aad(b"other")).await.unwrap_err();
    assert_eq!(wrong.code(), ErrorCode::DecryptFailed, "{wrong}");
    let missing = seal.decrypt(&decoded, &CallOptions::default()).await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::DecryptFailed);

    let mut tampered = decoded.clone();
    tampered.ciphertext[0] ^= 0x80;
    let err = seal.decrypt(&tampered, &aad(b"core/keyring")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DecryptFailed);

    let empty = seal.encrypt(b"", &CallOptions::default()).await.unwrap();
    assert!(seal.decrypt(&empty, &CallOptions::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn direct_mechanism_round_trip() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let opts = CallOptions { without_envelope: true, ..CallOptions::default() };
    let blob = seal.encrypt(b"recovery key", &opts).await.unwrap();
    let info = blob.key_info.as_ref().unwrap();
    assert_eq!(info.mechanism, MECHANISM_DIRECT);
    assert!(info.wrapped_key.is_empty() && blob.iv.is_empty());
    assert!(std::str::from_utf8(&blob.ciphertext).is_ok(), "ciphertext is OCI's base64 text");
    let decoded = BlobInfo::decode_bytes(&blob.encode_bytes()).unwrap();
    assert_eq!(&*seal.decrypt(&decoded, &CallOptions::default()).await.unwrap(), b"recovery key");

    let with_aad = CallOptions { aad: Some(b"x".to_vec()), ..opts };
    let err = seal.encrypt(b"x", &with_aad).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}

#[tokio::test]
async fn malformed_and_unsupported_blobs_are_distinct_errors() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let opts = CallOptions::default();
    let no_key_info = BlobInfo { ciphertext: b"x".to_vec(), ..BlobInfo::default() };
    assert_eq!(
        seal.decrypt(&no_key_info, &opts).await.unwrap_err().code(),
        ErrorCode::MalformedBlob
    );

    let mut unknown = seal.encrypt(b"v", &opts).await.unwrap();
    unknown.key_info.as_mut().unwrap().mechanism = 7;
    let err = seal.decrypt(&unknown, &opts).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedMechanism);
    assert!(err.message().contains('7'));

    let stored = seal.encrypt(b"v", &opts).await.unwrap().encode_bytes();
    let err = seal.decrypt_stored(&stored[..stored.len() - 3], &opts).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedBlob, "{err}");

    let mut bad_wrapped = seal.encrypt(b"v", &opts).await.unwrap();
    bad_wrapped.key_info.as_mut().unwrap().wrapped_key = b"bm90IGFuIE9DSSBjaXBoZXJ0ZXh0".to_vec();
    let err = seal.decrypt(&bad_wrapped, &opts).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServiceError, "{err}");
    assert_eq!(err.service().unwrap().status, 400);
}

#[tokio::test]
async fn multiwrap_stored_values_decrypt_through_our_slot() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let opts = CallOptions::default();
    let ours = seal.encrypt(b"multi", &opts).await.unwrap();
    let foreign = BlobInfo {
        ciphertext: b"from another seal".to_vec(),
        key_info: Some(ocikms::blob::KeyInfo {
            mechanism: 3,
            key_id: "projects/p/locations/l/keyRings/r/cryptoKeys/k".into(),
            ..Default::default()
        }),
        ..BlobInfo::default()
    };
    let stored =
        MultiWrapValue { generation: 4, slots: vec![foreign, ours] }.encode_stored().unwrap();
    assert_eq!(&*seal.decrypt_stored(&stored, &opts).await.unwrap(), b"multi");
}

/// OpenBao v2.5.0's form of `blob` (go-kms-wrapping v2.6.0, `NewGCMWithRandomNonce`): an empty
/// IV field and nonce(12) ‖ ciphertext ‖ tag(16) in the ciphertext field. (The real Go code's
/// blobs are decrypted in tests/openbao-compat.)
fn openbao_v2_5_0_form(blob: &BlobInfo) -> BlobInfo {
    let mut combined = blob.clone();
    combined.ciphertext = [blob.iv.as_slice(), &blob.ciphertext].concat();
    combined.iv.clear();
    combined
}

#[tokio::test]
async fn openbao_v2_5_0_nonce_prefixed_blobs_decrypt_and_rewrap_to_the_standard_form() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let with_aad = aad(b"core/keyring");
    let blob = openbao_v2_5_0_form(&seal.encrypt(b"barrier keyring", &with_aad).await.unwrap());
    let stored = blob.encode_bytes();
    assert_eq!(&*seal.decrypt_stored(&stored, &with_aad).await.unwrap(), b"barrier keyring");
    let err = seal.decrypt_stored(&stored, &aad(b"other")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DecryptFailed, "{err}");
    let empty = openbao_v2_5_0_form(&seal.encrypt(b"", &CallOptions::default()).await.unwrap());
    assert!(seal.decrypt(&empty, &CallOptions::default()).await.unwrap().is_empty());
    let multi =
        MultiWrapValue { generation: 1, slots: vec![blob.clone()] }.encode_stored().unwrap();
    assert_eq!(&*seal.decrypt_stored(&multi, &with_aad).await.unwrap(), b"barrier keyring");

    // Too short to hold the nonce and the tag: malformed, not a failed authentication.
    let mut short = blob.clone();
    short.ciphertext.truncate(27);
    let err = seal.decrypt(&short, &with_aad).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedBlob, "{err}");
    assert!(err.message().contains("no IV"), "{err}");

    // Under the current key version rewrap leaves it as it is; after a rotation it is rewritten
    // in the standard form (12-byte IV field).
    assert!(seal.rewrap(&blob, &with_aad).await.unwrap().is_none());
    let ctx = seal.context(&CallOptions::default());
    seal.client().create_key_version(&ctx, &emu.field("key_id")).await.unwrap();
    let rewrapped = seal.rewrap(&blob, &with_aad).await.unwrap().expect("rewrapped");
    assert_eq!(rewrapped.iv.len(), 12);
    assert_eq!(rewrapped.ciphertext.len(), b"barrier keyring".len() + 16);
    assert_eq!(&*seal.decrypt(&rewrapped, &with_aad).await.unwrap(), b"barrier keyring");
}

#[test]
fn blocking_facade_round_trip() {
    let emu = Emulator::start();
    let config = emu.config();
    let seal = BlockingSeal::new(config, &CallOptions::default()).expect("blocking init");
    let blob = seal.encrypt(b"sync", &aad(b"a")).unwrap();
    assert_eq!(&*seal.decrypt(&blob, &aad(b"a")).unwrap(), b"sync");
    assert_eq!(&*seal.decrypt_stored(&blob.encode_bytes(), &aad(b"a")).unwrap(), b"sync");
    assert_eq!(seal.key_id(), blob.key_info.unwrap().key_id);
    assert_eq!(seal.metadata()["principal_type"], "user");
    assert!(seal
        .rewrap(&seal.encrypt(b"s", &CallOptions::default()).unwrap(), &CallOptions::default())
        .unwrap()
        .is_none());
}
