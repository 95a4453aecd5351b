// SPDX-License-Identifier: MPL-2.0
//! The wire format Vault stores: go-kms-wrapping v2's `BlobInfo`/`KeyInfo` protobuf messages
//! (`types.proto`, proto3), byte-identical to Go's `proto.Marshal` (fields in number order, zero
//! values omitted), and Vault's `multiwrapvalue:1` envelope around a `MultiWrapValue`.

use prost::Message;

use crate::error::{Error, ErrorCode, Result};

/// The 16-byte header of Vault's multi-seal stored value.
pub const MULTI_WRAP_HEADER: &[u8; 16] = b"multiwrapvalue:1";

/// Wrapping mechanism: AES-256-GCM envelope, DEK wrapped by OCI KMS (the default).
pub const MECHANISM_ENVELOPE: u64 = 0;
/// Wrapping mechanism: plaintext encrypted by OCI KMS directly (`WithoutEnvelope`).
pub const MECHANISM_DIRECT: u64 = 1;

/// go-kms-wrapping's `BlobInfo`: an encrypted value and how it was encrypted.
#[derive(Clone, PartialEq, Message)]
pub struct BlobInfo {
    /// 1: the ciphertext (AES-GCM output with the tag appended, or OCI's ciphertext as ASCII).
    #[prost(bytes = "vec", tag = "1")]
    pub ciphertext: Vec<u8>,
    /// 2: the AES-GCM IV (12 bytes for the envelope mechanism).
    #[prost(bytes = "vec", tag = "2")]
    pub iv: Vec<u8>,
    /// 3: an HMAC, if any (unused by the OCI seal).
    #[prost(bytes = "vec", tag = "3")]
    pub hmac: Vec<u8>,
    /// 4: deprecated `wrapped` flag.
    #[prost(bool, tag = "4")]
    pub wrapped: bool,
    /// 5: how the value was wrapped.
    #[prost(message, optional, tag = "5")]
    pub key_info: Option<KeyInfo>,
    /// 6: deprecated value path.
    #[prost(string, tag = "6")]
    pub value_path: String,
    /// 7: plaintext (only in values Vault never encrypted).
    #[prost(bytes = "vec", tag = "7")]
    pub plaintext: Vec<u8>,
    /// 8: `google.protobuf.Struct` client data, kept as its raw encoding (presence preserved).
    #[prost(bytes = "vec", optional, tag = "8")]
    pub client_data: Option<Vec<u8>>,
}

/// go-kms-wrapping's `KeyInfo`: the key and mechanism a `BlobInfo` was wrapped with.
#[derive(Clone, PartialEq, Message)]
pub struct KeyInfo {
    /// 1: the wrapping mechanism ([`MECHANISM_ENVELOPE`] or [`MECHANISM_DIRECT`] for OCI).
    #[prost(uint64, tag = "1")]
    pub mechanism: u64,
    /// 2: HMAC mechanism (unused by the OCI seal).
    #[prost(uint64, tag = "2")]
    pub hmac_mechanism: u64,
    /// 3: the key *version* OCID the value was wrapped under.
    #[prost(string, tag = "3")]
    pub key_id: String,
    /// 4: HMAC key id (unused by the OCI seal).
    #[prost(string, tag = "4")]
    pub hmac_key_id: String,
    /// 5: the wrapped DEK: the ASCII bytes of OCI's base64 ciphertext string.
    #[prost(bytes = "vec", tag = "5")]
    pub wrapped_key: Vec<u8>,
    /// 6: flags.
    #[prost(uint64, tag = "6")]
    pub flags: u64,
    /// 7: `KeyType` enum value.
    #[prost(int32, tag = "7")]
    pub key_type: i32,
    /// 8: `KeyPurpose` enum values (packed).
    #[prost(int32, repeated, tag = "8")]
    pub key_purposes: Vec<i32>,
    /// 9: raw key bytes (unused by the OCI seal).
    #[prost(bytes = "vec", tag = "9")]
    pub key: Vec<u8>,
    /// 10: `KeyEncoding` enum value.
    #[prost(int32, tag = "10")]
    pub key_encoding: i32,
    /// 11: `KeyEncoding` enum value of the wrapped key.
    #[prost(int32, tag = "11")]
    pub wrapped_key_encoding: i32,
}

/// Vault's `MultiWrapValue`: one `BlobInfo` slot per seal that encrypted the value.
#[derive(Clone, PartialEq, Message)]
pub struct MultiWrapValue {
    /// 1: the seal generation that wrote the value.
    #[prost(uint64, tag = "1")]
    pub generation: u64,
    /// 2: one encryption of the value per seal.
    #[prost(message, repeated, tag = "2")]
    pub slots: Vec<BlobInfo>,
}

/// A value as Vault stores it: a bare `BlobInfo`, or a `multiwrapvalue:1` with several slots.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredValue {
    /// `proto.Marshal(BlobInfo)`, as single-seal Vault writes.
    Single(Box<BlobInfo>),
    /// The `multiwrapvalue:1` form.
    Multi(MultiWrapValue),
}

impl StoredValue {
    /// Parses either stored form (the header decides which).
    pub fn decode(bytes: &[u8]) -> Result<StoredValue> {
        if bytes.starts_with(MULTI_WRAP_HEADER) {
            MultiWrapValue::decode_stored(bytes).map(StoredValue::Multi)
        } else {
            BlobInfo::decode_bytes(bytes).map(|b| StoredValue::Single(Box::new(b)))
        }
    }

    /// The blobs to try, in order: the single blob, or the slots that carry a `KeyInfo` with a
    /// mechanism the OCI seal implements, those wrapped under `preferred_key_id` first.
    pub fn candidates(&self, preferred_key_id: &str) -> Vec<&BlobInfo> {
        match self {
            StoredValue::Single(blob) => vec![blob.as_ref()],
            StoredValue::Multi(multi) => {
                let ours: Vec<&BlobInfo> = multi
                    .slots
                    .iter()
                    .filter(|b| {
                        b.key_info.as_ref().is_some_and(|k| {
                            k.mechanism == MECHANISM_ENVELOPE || k.mechanism == MECHANISM_DIRECT
                        })
                    })
                    .collect();
                let is_preferred = |b: &&BlobInfo| {
                    !preferred_key_id.is_empty()
                        && b.key_info.as_ref().is_some_and(|k| k.key_id == preferred_key_id)
                };
                let (mut first, rest): (Vec<_>, Vec<_>) = ours.into_iter().partition(is_preferred);
                first.extend(rest);
                first
            }
        }
    }
}

impl BlobInfo {
    /// Serialises exactly as Go's `proto.Marshal`.
    pub fn encode_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    /// Parses a `proto.Marshal(BlobInfo)`; garbage or truncation is [`ErrorCode::MalformedBlob`].
    pub fn decode_bytes(bytes: &[u8]) -> Result<BlobInfo> {
        BlobInfo::decode(bytes).map_err(|e| malformed("BlobInfo", &e))
    }
}

impl MultiWrapValue {
    /// Serialises in Vault's stored form: header, 4-byte big-endian length, protobuf.
    pub fn encode_stored(&self) -> Result<Vec<u8>> {
        let proto = self.encode_to_vec();
        let len = u32::try_from(proto.len()).map_err(|_| {
            Error::new(ErrorCode::InvalidArgument, "MultiWrapValue larger than 4 GiB")
        })?;
        let mut out = Vec::with_capacity(MULTI_WRAP_HEADER.len() + 4 + proto.len());
        out.extend_from_slice(MULTI_WRAP_HEADER);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&proto);
        Ok(out)
    }

    /// Parses Vault's stored form; a bad header, length or protobuf is
    /// [`ErrorCode::MalformedBlob`].
    pub fn decode_stored(bytes: &[u8]) -> Result<MultiWrapValue> {
        let rest = bytes.strip_prefix(MULTI_WRAP_HEADER.as_slice()).ok_or_else(|| {
            Error::new(
                ErrorCode::MalformedBlob,
                "stored value does not start with multiwrapvalue:1",
            )
        })?;
        let (len, proto) = rest.split_first_chunk::<4>().ok_or_else(|| {
            Error::new(
                ErrorCode::MalformedBlob,
                "multiwrapvalue:1 value is truncated: the 4-byte length is missing",
            )
        })?;
        let declared = u32::from_be_bytes(*len) as usize;
        if declared != proto.len() {
            return Err(Error::new(
                ErrorCode::MalformedBlob,
                format!(
                    "multiwrapvalue:1 length mismatch: header says {declared} bytes, {} follow \
                     (truncated or corrupted value)",
                    proto.len()
                ),
            ));
        }
        let value = MultiWrapValue::decode(proto).map_err(|e| malformed("MultiWrapValue", &e))?;
        if value.slots.is_empty() {
            return Err(Error::new(
                ErrorCode::MalformedBlob,
                "multiwrapvalue:1 value has no slots",
            ));
        }
        Ok(value)
    }
}

fn malformed(what: &str, err: &prost::DecodeError) -> Error {
    Error::new(
        ErrorCode::MalformedBlob,
        format!("not a valid go-kms-wrapping {what} (truncated or corrupted): {err}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope_blob() -> BlobInfo {
        BlobInfo {
            ciphertext: b"CT".to_vec(),
            iv: vec![1; 12],
            key_info: Some(KeyInfo {
                key_id: "kv1".into(),
                wrapped_key: b"d2s=".to_vec(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Hand-derived: tag byte = field << 3 | wire type (0 varint, 2 length-delimited). Both
    /// golden encodings were also checked once against Go's `proto.Marshal` of go-kms-wrapping
    /// v2's `BlobInfo` (google.golang.org/protobuf v1.36).
    const ENVELOPE_GOLDEN: &[u8] = &[
        0x0a, 0x02, b'C', b'T', // 1 ciphertext
        0x12, 0x0c, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, // 2 iv
        0x2a, 0x0b, // 5 key_info, 11 bytes
        0x1a, 0x03, b'k', b'v', b'1', // 3 key_id (mechanism 0 omitted)
        0x2a, 0x04, b'd', b'2', b's', b'=', // 5 wrapped_key
    ];

    #[test]
    fn envelope_blob_matches_hand_derived_bytes() {
        assert_eq!(envelope_blob().encode_bytes(), ENVELOPE_GOLDEN);
        assert_eq!(BlobInfo::decode_bytes(ENVELOPE_GOLDEN).unwrap(), envelope_blob());
    }

    #[test]
    fn direct_blob_and_every_key_info_field_in_number_order() {
        let blob = BlobInfo {
            ciphertext: b"Z".to_vec(),
            iv: vec![],
            hmac: b"h".to_vec(),
            wrapped: true,
            key_info: Some(KeyInfo {
                mechanism: 1,
                hmac_mechanism: 2,
                key_id: "k".into(),
                hmac_key_id: "m".into(),
                wrapped_key: vec![],
                flags: 300,
                key_type: 3,
                key_purposes: vec![1, 2],
                key: b"x".to_vec(),
                key_encoding: 4,
                wrapped_key_encoding: 5,
            }),
            value_path: "p".into(),
            plaintext: b"q".to_vec(),
            client_data: Some(vec![]),
        };
        let golden: &[u8] = &[
            0x0a, 0x01, b'Z', // 1 ciphertext (2 iv empty: omitted)
            0x1a, 0x01, b'h', // 3 hmac
            0x20, 0x01, // 4 wrapped
            0x2a, 0x1a, // 5 key_info, 26 bytes
            0x08, 0x01, // 1 mechanism
            0x10, 0x02, // 2 hmac_mechanism
            0x1a, 0x01, b'k', // 3 key_id
            0x22, 0x01, b'm', // 4 hmac_key_id (5 wrapped_key empty: omitted)
            0x30, 0xac, 0x02, // 6 flags = 300 (varint 0b10_0101100)
            0x38, 0x03, // 7 key_type
            0x42, 0x02, 0x01, 0x02, // 8 key_purposes, packed
            0x4a, 0x01, b'x', // 9 key
            0x50, 0x04, // 10 key_encoding
            0x58, 0x05, // 11 wrapped_key_encoding
            0x32, 0x01, b'p', // 6 value_path
            0x3a, 0x01, b'q', // 7 plaintext
            0x42, 0x00, // 8 client_data: present but empty
        ];
        assert_eq!(blob.encode_bytes(), golden);
        assert_eq!(BlobInfo::decode_bytes(golden).unwrap(), blob);
    }

    #[test]
    fn empty_blob_encodes_to_nothing() {
        assert!(BlobInfo::default().encode_bytes().is_empty());
    }

    #[test]
    fn garbage_and_truncation_are_malformed() {
        for bad in [&ENVELOPE_GOLDEN[..ENVELOPE_GOLDEN.len() - 1], &[0xff, 0xff, 0xff][..]] {
            let err = BlobInfo::decode_bytes(bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::MalformedBlob, "{err}");
            assert!(err.message().contains("BlobInfo"));
        }
    }

    #[test]
    fn multi_wrap_value_matches_vault_layout_and_round_trips() {
        let multi = MultiWrapValue { generation: 7, slots: vec![envelope_blob()] };
        let stored = multi.encode_stored().unwrap();
        let mut expected = b"multiwrapvalue:1".to_vec();
        let body_len = 2 + 2 + ENVELOPE_GOLDEN.len();
        expected.extend_from_slice(&(body_len as u32).to_be_bytes());
        expected.extend_from_slice(&[0x08, 0x07, 0x12, ENVELOPE_GOLDEN.len() as u8]);
        expected.extend_from_slice(ENVELOPE_GOLDEN);
        assert_eq!(stored, expected);
        assert_eq!(StoredValue::decode(&stored).unwrap(), StoredValue::Multi(multi));
        assert_eq!(
            StoredValue::decode(ENVELOPE_GOLDEN).unwrap(),
            StoredValue::Single(Box::new(envelope_blob()))
        );
    }

    #[test]
    fn multi_wrap_value_errors_are_malformed() {
        let stored =
            MultiWrapValue { generation: 1, slots: vec![envelope_blob()] }.encode_stored().unwrap();
        let cases: [(&[u8], &str); 3] = [
            (&stored[..stored.len() - 1], "length mismatch"),
            (&stored[..18], "4-byte length"),
            (b"multiwrapvalue:1\0\0\0\0", "no slots"),
        ];
        for (bytes, text) in cases {
            let err = StoredValue::decode(bytes).unwrap_err();
            assert_eq!(err.code(), ErrorCode::MalformedBlob);
            assert!(err.message().contains(text), "{err}");
        }
    }

    #[test]
    fn candidates_prefer_our_key_version_and_skip_foreign_slots() {
        let with = |id: &str, mechanism: u64| BlobInfo {
            key_info: Some(KeyInfo { key_id: id.into(), mechanism, ..Default::default() }),
            ..Default::default()
        };
        let multi = StoredValue::Multi(MultiWrapValue {
            generation: 2,
            slots: vec![with("old", 0), BlobInfo::default(), with("aead", 7), with("current", 1)],
        });
        let ids: Vec<&str> = multi
            .candidates("current")
            .iter()
            .map(|b| b.key_info.as_ref().unwrap().key_id.as_str())
            .collect();
        assert_eq!(ids, ["current", "old"]);
        let single = StoredValue::Single(Box::new(with("x", 9)));
        assert_eq!(single.candidates("current").len(), 1);
    }
}
