// SPDX-License-Identifier: MPL-2.0
//! RSA private keys from PEM files, in every form OCI users have them:
//!
//! * PKCS#1 `RSA PRIVATE KEY`, plain or with the legacy OpenSSL `Proc-Type: 4,ENCRYPTED` +
//!   `DEK-Info` headers (EVP_BytesToKey with MD5; AES-128/192/256-CBC or DES-EDE3-CBC);
//! * PKCS#8 `PRIVATE KEY`;
//! * encrypted PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2 with HMAC-SHA1/SHA-2, or scrypt;
//!   AES-128/192/256-CBC).
//!
//! Text around the PEM block (such as the `OCI_API_KEY` line of console-made keys) is ignored.
//! All decrypted key bytes are zeroed after use.

use std::path::Path;

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::read_limited::{read_limited, SECRET_FILE_LIMIT};

/// Reads and parses the RSA private key in `path`, decrypting it with `passphrase` when it is
/// encrypted. Warns (never fails) when the file is readable by group or others.
pub fn load_key_file(path: &Path, passphrase: Option<&str>) -> Result<KeyPair> {
    let bytes = read_limited(path, SECRET_FILE_LIMIT).map_err(|e| {
        Error::credentials(format!(
            "cannot read private key file {} ({e}): fix key_file in the OCI config profile",
            path.display()
        ))
    })?;
    super::config_file::warn_if_readable_by_others(path, "the private key file");
    parse_key(&bytes, passphrase, &path.display().to_string())
}

/// Parses a PEM RSA private key from a key file; `source` (its path) names it in error messages.
pub fn parse_key(pem_bytes: &[u8], passphrase: Option<&str>, source: &str) -> Result<KeyPair> {
    parse_key_from(pem_bytes, passphrase, &KeyOrigin::key_file(source))
}

/// How a private key and the settings that hold it are named in error messages, so that each
/// message says what to fix and where.
#[derive(Debug, Clone)]
pub struct KeyOrigin {
    key: String,
    key_setting: &'static str,
    passphrase_setting: &'static str,
    settings: &'static str,
}

impl KeyOrigin {
    /// A key file named by an OCI config profile (`key_file`, passphrase `pass_phrase`).
    pub fn key_file(path: impl std::fmt::Display) -> KeyOrigin {
        KeyOrigin {
            key: format!("key file {path}"),
            key_setting: "key_file",
            passphrase_setting: "pass_phrase",
            settings: "the OCI config profile",
        }
    }

    /// The PEM text given in the seal configuration itself (`private_key`, passphrase
    /// `private_key_passphrase`).
    pub fn seal_config() -> KeyOrigin {
        KeyOrigin {
            key: "the private_key of the seal configuration".to_owned(),
            key_setting: "private_key",
            passphrase_setting: "private_key_passphrase",
            settings: "the seal configuration",
        }
    }
}

/// Parses a PEM RSA private key, decrypting it with `passphrase` when it is encrypted; errors
/// name the key and the settings to fix as `origin` says (never the key or the passphrase).
pub fn parse_key_from(
    pem_bytes: &[u8],
    passphrase: Option<&str>,
    origin: &KeyOrigin,
) -> Result<KeyPair> {
    let KeyOrigin { key: source, passphrase_setting: pass, settings, .. } = origin;
    let block = PemBlock::find(pem_bytes).ok_or_else(|| {
        Error::credentials(format!(
            "{source} is not a PEM private key: expected a -----BEGIN RSA PRIVATE KEY----- or \
             -----BEGIN PRIVATE KEY----- block with base64 content"
        ))
    })?;
    let legacy_encryption = match block.header("Proc-Type") {
        Some("4,ENCRYPTED") => Some(block.header("DEK-Info").ok_or_else(|| {
            Error::credentials(format!(
                "{source} says Proc-Type: 4,ENCRYPTED but has no DEK-Info header: the file is \
                 damaged, re-export the key"
            ))
        })?),
        _ => None,
    };
    let (tag, der) = (block.label, &block.der);
    let need_passphrase = || {
        Error::credentials(format!(
            "{source} is encrypted but no {pass} is set: add {pass} to {settings}"
        ))
    };
    let wrong_passphrase = || {
        Error::credentials(format!(
            "wrong {pass} for {source} (decryption failed): fix {pass} in {settings}, or \
             re-export the key with the passphrase you have"
        ))
    };

    match (tag, legacy_encryption) {
        ("RSA PRIVATE KEY", None) => {
            KeyPair::from_der(der).map_err(|e| rejected(source, "PKCS#1", &e.to_string()))
        }
        ("RSA PRIVATE KEY", Some(dek_info)) => {
            let passphrase = passphrase.ok_or_else(need_passphrase)?;
            let plain = decrypt_legacy(der, dek_info, passphrase.as_bytes(), source)?
                .ok_or_else(wrong_passphrase)?;
            KeyPair::from_der(&plain).map_err(|_| wrong_passphrase())
        }
        ("PRIVATE KEY", _) => {
            KeyPair::from_pkcs8(der).map_err(|e| rejected(source, "PKCS#8", &e.to_string()))
        }
        ("ENCRYPTED PRIVATE KEY", _) => {
            let passphrase = passphrase.ok_or_else(need_passphrase)?;
            let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()).map_err(|e| {
                Error::credentials(format!(
                    "{source} is not a valid encrypted PKCS#8 key ({e}): re-export it"
                ))
            })?;
            let mut buf = Zeroizing::new(info.encrypted_data.to_vec());
            let plain = info
                .encryption_algorithm
                .decrypt_in_place(passphrase.as_bytes(), &mut buf)
                .map_err(|e| match e {
                    // pkcs5 0.7 reports a bad padding (a wrong passphrase) as `EncryptFailed`.
                    pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed => {
                        wrong_passphrase()
                    }
                    other => Error::credentials(format!(
                        "{source} uses an unsupported encryption scheme ({other}): re-encrypt it \
                         with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                    )),
                })?;
            KeyPair::from_pkcs8(plain).map_err(|_| wrong_passphrase())
        }
        (other, _) => Err(Error::credentials(format!(
            "{source} holds a `{other}` PEM block; OCI API keys are RSA keys in \
             PKCS#1 (RSA PRIVATE KEY) or PKCS#8 (PRIVATE KEY / ENCRYPTED PRIVATE KEY) form"
        ))),
    }
}

/// The first PEM block of a file: its label, its RFC 1421 headers and its decoded content.
/// Written here (rather than using a PEM crate) so that every copy of the key bytes, base64
/// included, lives in zeroed-on-drop buffers.
struct PemBlock<'a> {
    label: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    der: Zeroizing<Vec<u8>>,
}

impl<'a> PemBlock<'a> {
    /// Finds the first `-----BEGIN X-----` … `-----END X-----` block; `None` if there is none
    /// or its content is not base64.
    fn find(input: &'a [u8]) -> Option<PemBlock<'a>> {
        let text = std::str::from_utf8(input).ok()?;
        let after_begin = &text[text.find("-----BEGIN ")? + "-----BEGIN ".len()..];
        let (label, rest) = after_begin.split_once("-----")?;
        let end_marker = format!("-----END {label}-----");
        let body = &rest[..rest.find(&end_marker)?];
        let mut headers = Vec::new();
        let mut base64 = Zeroizing::new(String::with_capacity(body.len()));
        for line in body.lines().map(str::trim) {
            match line.split_once(':') {
                Some((name, value)) if base64.is_empty() => {
                    headers.push((name.trim(), value.trim()))
                }
                Some(_) => return None,
                None => base64.extend(line.chars().filter(|c| !c.is_whitespace())),
            }
        }
        let mut der = Zeroizing::new(Vec::with_capacity(base64.len() / 4 * 3 + 3));
        base64::engine::general_purpose::STANDARD.decode_vec(base64.as_bytes(), &mut der).ok()?;
        if der.is_empty() {
            return None;
        }
        Some(PemBlock { label, headers, der })
    }

    fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

fn rejected(source: &str, form: &str, reason: &str) -> Error {
    Error::credentials(format!(
        "{source}: the {form} RSA private key was rejected ({reason}); OCI API keys must be RSA \
         keys of 2048 bits or more"
    ))
}

/// Decrypts a legacy OpenSSL-encrypted PEM body. `Ok(None)` means the padding did not check
/// out: the passphrase is wrong.
fn decrypt_legacy(
    body: &[u8],
    dek_info: &str,
    passphrase: &[u8],
    source: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let (cipher, iv_hex) = dek_info.split_once(',').unwrap_or((dek_info, ""));
    let cipher = cipher.trim().to_ascii_uppercase();
    let (key_len, iv_len) = match cipher.as_str() {
        "AES-128-CBC" => (16, 16),
        "AES-192-CBC" => (24, 16),
        "AES-256-CBC" => (32, 16),
        "DES-EDE3-CBC" => (24, 8),
        _ => {
            return Err(Error::credentials(format!(
                "{source} is encrypted with {cipher}, which is not supported (use \
                 AES-128/192/256-CBC or DES-EDE3-CBC, or convert it with `openssl pkcs8 -topk8 \
                 -v2 aes-256-cbc`)"
            )))
        }
    };
    let iv = decode_hex(iv_hex.trim()).filter(|iv| iv.len() == iv_len).ok_or_else(|| {
        Error::credentials(format!(
            "{source} has a malformed DEK-Info IV: the file is damaged, re-export the key"
        ))
    })?;
    let key = evp_bytes_to_key(passphrase, &iv[..8], key_len);
    let mut buf = Zeroizing::new(body.to_vec());
    let plain_len = match cipher.as_str() {
        "AES-128-CBC" => cbc_decrypt::<aes::Aes128>(&key, &iv, &mut buf),
        "AES-192-CBC" => cbc_decrypt::<aes::Aes192>(&key, &iv, &mut buf),
        "AES-256-CBC" => cbc_decrypt::<aes::Aes256>(&key, &iv, &mut buf),
        _ => cbc_decrypt::<des::TdesEde3>(&key, &iv, &mut buf),
    };
    Ok(plain_len.map(|len| {
        buf.truncate(len);
        buf
    }))
}

/// CBC-decrypts `buf` in place; the plaintext length, or `None` on a padding error.
fn cbc_decrypt<C>(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Option<usize>
where
    C: aes::cipher::BlockDecryptMut + aes::cipher::BlockCipher + aes::cipher::KeyInit,
{
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    decryptor.decrypt_padded_mut::<Pkcs7>(buf).ok().map(<[u8]>::len)
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration: `D_i = MD5(D_{i-1} || pass || salt)`.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8], key_len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(key_len + 16));
    let mut previous = Zeroizing::new([0u8; 16]);
    let mut first = true;
    while key.len() < key_len {
        let mut md5 = Md5::new();
        if !first {
            md5.update(previous.as_slice());
        }
        md5.update(passphrase);
        md5.update(salt);
        previous.copy_from_slice(&md5.finalize());
        key.extend_from_slice(previous.as_slice());
        first = false;
    }
    key.truncate(key_len);
    key
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    hex.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => Some(hex_digit(*hi)? << 4 | hex_digit(*lo)?),
            _ => None,
        })
        .collect()
}

fn hex_digit(c: u8) -> Option<u8> {
    char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The OCI key fingerprint: MD5 of the public key's SubjectPublicKeyInfo DER, as lower-case hex
/// pairs joined by colons.
pub fn fingerprint(key: &KeyPair) -> Result<String> {
    let spki = key
        .public_key()
        .as_der()
        .map_err(|_| Error::internal("cannot encode the RSA public key as SubjectPublicKeyInfo"))?;
    let digest = Md5::digest(spki.as_ref());
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"))
}

/// Checks a configured fingerprint against the key's own (case-insensitively). `configured_in`
/// names where the fingerprint was set (`profile [DEFAULT] of ~/.oci/config`), `origin` the key.
pub fn check_fingerprint(
    configured: &str,
    key: &KeyPair,
    origin: &KeyOrigin,
    configured_in: &str,
) -> Result<()> {
    let actual = fingerprint(key)?;
    if configured.trim().eq_ignore_ascii_case(&actual) {
        return Ok(());
    }
    Err(Error::credentials(format!(
        "fingerprint mismatch: {configured_in} says fingerprint={} but {} has fingerprint \
         {actual}; fix the fingerprint or {} in {} (the fingerprint must be that of the API key \
         uploaded to the user)",
        configured.trim(),
        origin.key,
        origin.key_setting,
        origin.settings
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::OnceLock;

    const PASS: &str = "s3cret pass";

    /// One RSA key written in every supported form by the `openssl` command line tool.
    struct Keys {
        _dir: tempfile::TempDir,
        dir: PathBuf,
        /// `openssl rsa -pubout -outform DER | openssl md5 -c`, as OCI documents it.
        fingerprint: String,
    }

    fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command line tool is needed for the key format tests");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    fn keys() -> &'static Keys {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().to_path_buf();
            let pass = format!("pass:{PASS}");
            let p = pass.as_str();
            openssl(&["genrsa", "-out", "base.pem", "2048"], &dir);
            openssl(&["rsa", "-in", "base.pem", "-traditional", "-out", "pkcs1.pem"], &dir);
            openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", "base.pem", "-out", "pkcs8.pem"], &dir);
            openssl(
                &[
                    "pkcs8",
                    "-topk8",
                    "-v2",
                    "aes-256-cbc",
                    "-in",
                    "base.pem",
                    "-out",
                    "pbkdf2-sha256.pem",
                    "-passout",
                    p,
                ],
                &dir,
            );
            openssl(
                &[
                    "pkcs8",
                    "-topk8",
                    "-v2",
                    "aes-128-cbc",
                    "-v2prf",
                    "hmacWithSHA1",
                    "-in",
                    "base.pem",
                    "-out",
                    "pbkdf2-sha1.pem",
                    "-passout",
                    p,
                ],
                &dir,
            );
            openssl(
                &[
                    "pkcs8",
                    "-topk8",
                    "-scrypt",
                    "-in",
                    "base.pem",
                    "-out",
                    "scrypt.pem",
                    "-passout",
                    p,
                ],
                &dir,
            );
            for (cipher, file) in [
                ("-aes128", "legacy-aes128.pem"),
                ("-aes192", "legacy-aes192.pem"),
                ("-aes256", "legacy-aes256.pem"),
                ("-des3", "legacy-des3.pem"),
            ] {
                openssl(
                    &[
                        "rsa",
                        "-in",
                        "base.pem",
                        "-traditional",
                        cipher,
                        "-out",
                        file,
                        "-passout",
                        p,
                    ],
                    &dir,
                );
            }
            let spki = openssl(&["rsa", "-in", "base.pem", "-pubout", "-outform", "DER"], &dir);
            std::fs::write(dir.join("pub.der"), spki).unwrap();
            let md5 = String::from_utf8(openssl(&["md5", "-c", "pub.der"], &dir)).unwrap();
            let fingerprint = md5.rsplit(' ').next().unwrap().trim().to_string();
            Keys { _dir: tmp, dir, fingerprint }
        })
    }

    fn public_der(key: &KeyPair) -> Vec<u8> {
        key.public_key().as_der().unwrap().as_ref().to_vec()
    }

    #[test]
    fn every_format_parses_to_the_same_key() {
        let k = keys();
        let reference = load_key_file(&k.dir.join("pkcs1.pem"), None).unwrap();
        assert_eq!(fingerprint(&reference).unwrap(), k.fingerprint);
        let pem = std::fs::read_to_string(k.dir.join("pkcs1.pem")).unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"), "PKCS#1 form expected");
        for (file, pass) in [
            ("pkcs8.pem", None),
            ("pbkdf2-sha256.pem", Some(PASS)),
            ("pbkdf2-sha1.pem", Some(PASS)),
            ("scrypt.pem", Some(PASS)),
            ("legacy-aes128.pem", Some(PASS)),
            ("legacy-aes192.pem", Some(PASS)),
            ("legacy-aes256.pem", Some(PASS)),
            ("legacy-des3.pem", Some(PASS)),
        ] {
            let key =
                load_key_file(&k.dir.join(file), pass).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(public_der(&key), public_der(&reference), "{file}");
        }
        let legacy = std::fs::read_to_string(k.dir.join("legacy-des3.pem")).unwrap();
        assert!(legacy.contains("Proc-Type: 4,ENCRYPTED") && legacy.contains("DES-EDE3-CBC"));
    }

    #[test]
    fn unencrypted_key_ignores_a_passphrase_and_surrounding_text() {
        let k = keys();
        let pem = std::fs::read_to_string(k.dir.join("pkcs8.pem")).unwrap();
        let console_style = format!("{pem}OCI_API_KEY\n");
        let key = parse_key(console_style.as_bytes(), Some("unused"), "console.pem").unwrap();
        assert_eq!(fingerprint(&key).unwrap(), k.fingerprint);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_readable_by_others_still_loads() {
        use std::os::unix::fs::PermissionsExt;
        let k = keys();
        let path = k.dir.join("world-readable.pem");
        std::fs::copy(k.dir.join("pkcs8.pem"), &path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let key = load_key_file(&path, None).expect("a loose mode is a warning, not an error");
        assert_eq!(fingerprint(&key).unwrap(), k.fingerprint);
    }

    #[test]
    fn pem_headers_and_garbage() {
        let k = keys();
        let legacy = std::fs::read(k.dir.join("legacy-aes128.pem")).unwrap();
        let block = PemBlock::find(&legacy).unwrap();
        assert_eq!(block.label, "RSA PRIVATE KEY");
        assert_eq!(block.header("proc-type"), Some("4,ENCRYPTED"));
        assert!(block.header("DEK-Info").unwrap().starts_with("AES-128-CBC,"));
        for bad in [
            "-----BEGIN PRIVATE KEY-----\nAAAA\n",
            "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nAAAA\nX: y\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(PemBlock::find(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn wrong_or_missing_passphrase() {
        let k = keys();
        for file in ["pbkdf2-sha256.pem", "scrypt.pem", "legacy-aes256.pem", "legacy-des3.pem"] {
            let path = k.dir.join(file);
            let err = load_key_file(&path, Some("not the passphrase")).unwrap_err();
            assert_eq!(err.code(), ErrorCode::Credentials);
            assert_eq!(
                err.message(),
                format!(
                    "wrong pass_phrase for key file {} (decryption failed): fix pass_phrase in the \
                     OCI config profile, or re-export the key with the passphrase you have",
                    path.display()
                )
            );
            let err = load_key_file(&path, None).unwrap_err();
            assert!(err.message().contains("encrypted but no pass_phrase"), "{file}: {err}");
            assert!(!err.message().contains(PASS));
        }
    }

    #[test]
    fn fingerprint_check() {
        let k = keys();
        let path = k.dir.join("pkcs1.pem");
        let key = load_key_file(&path, None).unwrap();
        let origin = KeyOrigin::key_file(path.display());
        check_fingerprint(&k.fingerprint.to_uppercase(), &key, &origin, "profile [DEFAULT]")
            .unwrap();
        let wrong = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
        let err = check_fingerprint(wrong, &key, &origin, "profile [DEFAULT]").unwrap_err();
        assert_eq!(err.code(), ErrorCode::Credentials);
        let msg = err.message();
        assert!(
            msg.contains("fingerprint mismatch")
                && msg.contains(wrong)
                && msg.contains(&k.fingerprint),
            "{msg}"
        );
    }

    #[test]
    fn not_a_key() {
        for (text, needle) in [
            ("hello", "not a PEM private key"),
            ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "`CERTIFICATE`"),
            ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "rejected"),
        ] {
            let err = parse_key(text.as_bytes(), None, "x.pem").unwrap_err();
            assert!(err.message().contains(needle), "{text}: {err}");
        }
        let blowfish = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                        DEK-Info: BF-CBC,0011223344556677\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let err = parse_key(blowfish.as_bytes(), Some("pw"), "bf.pem").unwrap_err();
        assert!(err.message().contains("BF-CBC, which is not supported"), "{err}");
        let err = load_key_file(Path::new("/nonexistent/key.pem"), None).unwrap_err();
        assert!(err.message().contains("/nonexistent/key.pem"), "{err}");
    }

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -P -md md5 -S 0102030405060708 -pass pass:password`
        let k = keys();
        let out = String::from_utf8(openssl(
            &[
                "enc",
                "-aes-256-cbc",
                "-P",
                "-md",
                "md5",
                "-S",
                "0102030405060708",
                "-pass",
                "pass:password",
            ],
            &k.dir,
        ))
        .unwrap();
        let key_hex =
            out.lines().find_map(|l| l.strip_prefix("key=")).unwrap().trim().to_ascii_lowercase();
        let derived = evp_bytes_to_key(b"password", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        let derived_hex: String = derived.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(derived_hex, key_hex);
    }
}
