// SPDX-License-Identifier: MPL-2.0
//! The AES-256-GCM envelope of go-kms-wrapping's `EnvelopeEncrypt`/`EnvelopeDecrypt`: a random
//! 32-byte data encryption key (DEK), a random 12-byte IV, the 16-byte tag appended to the
//! ciphertext, and optional additional authenticated data.
//!
//! Two stored forms exist. The standard one (Vault, OpenBao up to 2.4 and from 2.5.1, this
//! library) keeps the IV in its own field. OpenBao v2.5.0 (go-kms-wrapping v2.6.0, whose
//! `EnvelopeEncrypt` used `cipher.NewGCMWithRandomNonce`) wrote an empty IV field and a
//! ciphertext of nonce(12) ‖ ciphertext ‖ tag(16). [`decrypt`] reads both; [`encrypt`] writes the
//! standard form.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorCode, Result};

/// Length of the data encryption key.
pub const DEK_LEN: usize = 32;
/// Length of the AES-GCM IV.
pub const IV_LEN: usize = NONCE_LEN;
/// Length of the AES-GCM tag appended to the ciphertext.
pub const TAG_LEN: usize = 16;

/// The output of [`encrypt`]: the DEK to wrap with KMS, the IV and the sealed ciphertext.
pub struct Envelope {
    /// The fresh data encryption key (zeroed on drop).
    pub dek: Zeroizing<Vec<u8>>,
    /// The random IV.
    pub iv: Vec<u8>,
    /// AES-256-GCM ciphertext with the 16-byte tag appended.
    pub ciphertext: Vec<u8>,
}

/// Encrypts `plaintext` under a fresh random DEK and IV, binding `aad`.
pub fn encrypt(plaintext: &[u8], aad: &[u8]) -> Result<Envelope> {
    let rng = SystemRandom::new();
    let mut dek = Zeroizing::new(vec![0u8; DEK_LEN]);
    let mut iv = vec![0u8; IV_LEN];
    rng.fill(&mut dek).and_then(|()| rng.fill(&mut iv)).map_err(|_| {
        Error::internal("envelope encrypt: the system random number generator failed")
    })?;
    let key = aead_key(&dek)?;
    let nonce = Nonce::try_assume_unique_for_key(&iv)
        .map_err(|_| Error::internal("envelope encrypt: bad IV length"))?;
    // Room for the tag up front: appending it then needs no realloc + copy of the ciphertext.
    let mut ciphertext = Vec::with_capacity(plaintext.len() + AES_256_GCM.tag_len());
    ciphertext.extend_from_slice(plaintext);
    key.seal_in_place_append_tag(nonce, Aad::from(aad), &mut ciphertext)
        .map_err(|_| Error::internal("envelope encrypt: AES-256-GCM seal failed"))?;
    Ok(Envelope { dek, iv, ciphertext })
}

/// Opens an envelope ciphertext with its DEK, IV and the AAD it was sealed with.
///
/// An empty `iv` means OpenBao v2.5.0's combined form: the nonce is the first 12 bytes of
/// `ciphertext` (one shorter than nonce + tag is [`ErrorCode::MalformedBlob`]).
/// A wrong key, IV, AAD, or a tampered or truncated ciphertext is [`ErrorCode::DecryptFailed`].
pub fn decrypt(dek: &[u8], iv: &[u8], ciphertext: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let (iv, ciphertext) = if iv.is_empty() { split_nonce(ciphertext)? } else { (iv, ciphertext) };
    if dek.len() != DEK_LEN {
        return Err(Error::new(
            ErrorCode::DecryptFailed,
            format!(
                "envelope decrypt: KMS returned a {}-byte data key, expected {DEK_LEN}",
                dek.len()
            ),
        ));
    }
    let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| {
        Error::new(
            ErrorCode::MalformedBlob,
            format!("envelope decrypt: the blob's IV is {} bytes, expected {IV_LEN}", iv.len()),
        )
    })?;
    let key = aead_key(dek)?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| {
            Error::new(
                ErrorCode::DecryptFailed,
                "envelope decrypt: AES-256-GCM authentication failed (wrong AAD, or the blob's \
                 ciphertext, IV or tag was tampered with or truncated)",
            )
        })?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// Splits OpenBao v2.5.0's nonce(12) ‖ ciphertext ‖ tag(16) into nonce and sealed ciphertext.
fn split_nonce(combined: &[u8]) -> Result<(&[u8], &[u8])> {
    if combined.len() < IV_LEN + TAG_LEN {
        return Err(Error::new(
            ErrorCode::MalformedBlob,
            format!(
                "envelope decrypt: the blob has no IV and its ciphertext is {} bytes, too short \
                 for the {IV_LEN}-byte nonce and {TAG_LEN}-byte tag that OpenBao v2.5.0's \
                 nonce-prefixed form holds (truncated or corrupted blob)",
                combined.len()
            ),
        ));
    }
    Ok(combined.split_at(IV_LEN))
}

fn aead_key(dek: &[u8]) -> Result<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, dek)
        .map(LessSafeKey::new)
        .map_err(|_| Error::internal("envelope: AES-256 key setup failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_aad_and_shapes_match_go() {
        let env = encrypt(b"hello", b"aad").unwrap();
        assert_eq!(env.dek.len(), 32);
        assert_eq!(env.iv.len(), 12);
        assert_eq!(env.ciphertext.len(), 5 + 16);
        assert_eq!(&*decrypt(&env.dek, &env.iv, &env.ciphertext, b"aad").unwrap(), b"hello");
        let empty = encrypt(b"", b"").unwrap();
        assert_eq!(empty.ciphertext.len(), 16);
        assert!(decrypt(&empty.dek, &empty.iv, &empty.ciphertext, b"").unwrap().is_empty());
        assert_ne!(encrypt(b"hello", b"").unwrap().iv, env.iv);
    }

    #[test]
    fn known_answer_from_nist_gcm_vector() {
        // NIST GCM test case 14 (256-bit zero key, zero IV, one zero block).
        let ct = decrypt(
            &[0; 32],
            &[0; 12],
            &hex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"),
            b"",
        )
        .unwrap();
        assert_eq!(&*ct, &[0u8; 16]);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn openbao_v2_5_0_nonce_prefixed_form_decrypts() {
        for (plaintext, aad) in [(&b""[..], &b""[..]), (b"root key", b"core/keyring")] {
            let env = encrypt(plaintext, aad).unwrap();
            let combined = [env.iv.as_slice(), &env.ciphertext].concat();
            assert_eq!(&*decrypt(&env.dek, &[], &combined, aad).unwrap(), plaintext);
            let err = decrypt(&env.dek, &[], &combined, b"other").unwrap_err();
            assert_eq!(err.code(), ErrorCode::DecryptFailed, "{err}");
            let mut tampered = combined.clone();
            tampered[0] ^= 1; // the nonce
            let err = decrypt(&env.dek, &[], &tampered, aad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::DecryptFailed, "{err}");
        }
        // NIST GCM test case 14 in the combined form: zero nonce ‖ ciphertext ‖ tag.
        let combined = hex(
            "000000000000000000000000cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919",
        );
        assert_eq!(&*decrypt(&[0; 32], &[], &combined, b"").unwrap(), &[0u8; 16]);
        // Shorter than nonce + tag: malformed, whatever the length.
        for len in [0, 1, IV_LEN, IV_LEN + TAG_LEN - 1] {
            let err = decrypt(&[0; 32], &[], &vec![7; len], b"").unwrap_err();
            assert_eq!(err.code(), ErrorCode::MalformedBlob, "{len}: {err}");
            assert!(
                err.message().contains("no IV") && err.message().contains(&format!("{len} bytes"))
            );
        }
        // Exactly nonce + tag is an empty plaintext's length: not malformed, just unauthentic.
        let err = decrypt(&[0; 32], &[], &[7; IV_LEN + TAG_LEN], b"").unwrap_err();
        assert_eq!(err.code(), ErrorCode::DecryptFailed);
    }

    #[test]
    fn wrong_aad_tamper_truncation_are_decrypt_failed() {
        let env = encrypt(b"secret", b"a").unwrap();
        let mut tampered = env.ciphertext.clone();
        tampered[0] ^= 1;
        let mut bad_iv = env.iv.clone();
        bad_iv[0] ^= 1;
        for (iv, ct, aad) in [
            (&env.iv, &env.ciphertext, &b"b"[..]),
            (&env.iv, &tampered, &b"a"[..]),
            (&bad_iv, &env.ciphertext, &b"a"[..]),
            (&env.iv, &env.ciphertext[..10].to_vec(), &b"a"[..]),
        ] {
            let err = decrypt(&env.dek, iv, ct, aad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::DecryptFailed);
            assert!(!err.to_string().contains("secret"));
        }
        assert_eq!(
            decrypt(&env.dek, &env.iv[..8], &env.ciphertext, b"a").unwrap_err().code(),
            ErrorCode::MalformedBlob
        );
        assert_eq!(
            decrypt(&env.dek[..16], &env.iv, &env.ciphertext, b"a").unwrap_err().code(),
            ErrorCode::DecryptFailed
        );
    }
}
