// SPDX-License-Identifier: MPL-2.0
//! The JSON form of go-kms-wrapping's `BlobInfo`: protobuf JSON field names (`keyInfo`,
//! `wrappedKey`, ...), byte fields in standard base64, zero values left out — so Go's
//! `protojson.Unmarshal` reads it too. Parsing also accepts the snake_case names and numbers
//! given as strings (as protojson writes 64-bit integers).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ocikms::blob::{BlobInfo, KeyInfo};
use ocikms::{Error, ErrorCode, Result};
use serde_json::{Map, Value};

/// Renders `blob` as a JSON value.
pub fn to_json(blob: &BlobInfo) -> Value {
    let mut out = Map::new();
    put_bytes(&mut out, "ciphertext", &blob.ciphertext);
    put_bytes(&mut out, "iv", &blob.iv);
    put_bytes(&mut out, "hmac", &blob.hmac);
    if blob.wrapped {
        out.insert("wrapped".into(), Value::Bool(true));
    }
    if let Some(info) = &blob.key_info {
        out.insert("keyInfo".into(), key_info_json(info));
    }
    if !blob.value_path.is_empty() {
        out.insert("valuePath".into(), Value::String(blob.value_path.clone()));
    }
    put_bytes(&mut out, "plaintext", &blob.plaintext);
    if let Some(raw) = &blob.client_data {
        // A google.protobuf.Struct kept as its raw encoding: not protojson, but lossless.
        out.insert("clientDataProto".into(), Value::String(B64.encode(raw)));
    }
    Value::Object(out)
}

fn key_info_json(info: &KeyInfo) -> Value {
    let mut out = Map::new();
    // The mechanism is always written: 0 (envelope) is the common, meaningful case.
    out.insert("mechanism".into(), Value::from(info.mechanism));
    put_u64(&mut out, "hmacMechanism", info.hmac_mechanism);
    put_str(&mut out, "keyId", &info.key_id);
    put_str(&mut out, "hmacKeyId", &info.hmac_key_id);
    put_bytes(&mut out, "wrappedKey", &info.wrapped_key);
    put_u64(&mut out, "flags", info.flags);
    put_u64(&mut out, "keyType", u64::try_from(info.key_type).unwrap_or_default());
    if !info.key_purposes.is_empty() {
        out.insert("keyPurposes".into(), Value::from(info.key_purposes.clone()));
    }
    put_bytes(&mut out, "key", &info.key);
    put_u64(&mut out, "keyEncoding", u64::try_from(info.key_encoding).unwrap_or_default());
    put_u64(
        &mut out,
        "wrappedKeyEncoding",
        u64::try_from(info.wrapped_key_encoding).unwrap_or_default(),
    );
    Value::Object(out)
}

fn put_bytes(map: &mut Map<String, Value>, name: &str, bytes: &[u8]) {
    if !bytes.is_empty() {
        map.insert(name.into(), Value::String(B64.encode(bytes)));
    }
}

fn put_str(map: &mut Map<String, Value>, name: &str, text: &str) {
    if !text.is_empty() {
        map.insert(name.into(), Value::String(text.to_owned()));
    }
}

fn put_u64(map: &mut Map<String, Value>, name: &str, n: u64) {
    if n != 0 {
        map.insert(name.into(), Value::from(n));
    }
}

/// Parses the JSON form back into a `BlobInfo`.
pub fn from_json(text: &[u8]) -> Result<BlobInfo> {
    let value: Value = serde_json::from_slice(text).map_err(|e| {
        malformed(format!("the input starts like JSON but is not valid JSON ({e})"))
    })?;
    let obj = Fields::of(&value, "BlobInfo")?;
    let key_info = match obj.get("keyInfo", "key_info") {
        None | Some(Value::Null) => None,
        Some(v) => Some(key_info_from(v)?),
    };
    Ok(BlobInfo {
        ciphertext: obj.bytes("ciphertext", "ciphertext")?,
        iv: obj.bytes("iv", "iv")?,
        hmac: obj.bytes("hmac", "hmac")?,
        wrapped: obj.get("wrapped", "wrapped").and_then(Value::as_bool).unwrap_or(false),
        key_info,
        value_path: obj.string("valuePath", "value_path")?,
        plaintext: obj.bytes("plaintext", "plaintext")?,
        client_data: match obj.get("clientDataProto", "client_data_proto") {
            None => None,
            Some(_) => Some(obj.bytes("clientDataProto", "client_data_proto")?),
        },
    })
}

fn key_info_from(value: &Value) -> Result<KeyInfo> {
    let obj = Fields::of(value, "keyInfo")?;
    let i32_of = |camel: &str, snake: &str| -> Result<i32> {
        i32::try_from(obj.number(camel, snake)?)
            .map_err(|_| malformed(format!("keyInfo.{camel} is out of range")))
    };
    let purposes = match obj.get("keyPurposes", "key_purposes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| number_of(v).and_then(|n| i32::try_from(n).ok()))
            .collect::<Option<Vec<i32>>>()
            .ok_or_else(|| malformed("keyInfo.keyPurposes must be a list of numbers".to_owned()))?,
        Some(_) => return Err(malformed("keyInfo.keyPurposes must be a list".to_owned())),
    };
    Ok(KeyInfo {
        mechanism: obj.number("mechanism", "mechanism")?,
        hmac_mechanism: obj.number("hmacMechanism", "hmac_mechanism")?,
        key_id: obj.string("keyId", "key_id")?,
        hmac_key_id: obj.string("hmacKeyId", "hmac_key_id")?,
        wrapped_key: obj.bytes("wrappedKey", "wrapped_key")?,
        flags: obj.number("flags", "flags")?,
        key_type: i32_of("keyType", "key_type")?,
        key_purposes: purposes,
        key: obj.bytes("key", "key")?,
        key_encoding: i32_of("keyEncoding", "key_encoding")?,
        wrapped_key_encoding: i32_of("wrappedKeyEncoding", "wrapped_key_encoding")?,
    })
}

/// A JSON object whose fields go by a camelCase or a snake_case name.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    what: &'static str,
}

impl<'a> Fields<'a> {
    fn of(value: &'a Value, what: &'static str) -> Result<Fields<'a>> {
        value
            .as_object()
            .map(|map| Fields { map, what })
            .ok_or_else(|| malformed(format!("{what} must be a JSON object")))
    }

    fn get(&self, camel: &str, snake: &str) -> Option<&'a Value> {
        self.map.get(camel).or_else(|| self.map.get(snake))
    }

    fn bytes(&self, camel: &str, snake: &str) -> Result<Vec<u8>> {
        match self.get(camel, snake) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => B64.decode(s.trim()).map_err(|e| {
                malformed(format!("{}.{camel} is not standard base64 ({e})", self.what))
            }),
            Some(_) => Err(malformed(format!("{}.{camel} must be a base64 string", self.what))),
        }
    }

    fn string(&self, camel: &str, snake: &str) -> Result<String> {
        match self.get(camel, snake) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(malformed(format!("{}.{camel} must be a string", self.what))),
        }
    }

    fn number(&self, camel: &str, snake: &str) -> Result<u64> {
        match self.get(camel, snake) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => number_of(v).ok_or_else(|| {
                malformed(format!("{}.{camel} must be a non-negative integer", self.what))
            }),
        }
    }
}

/// A non-negative integer given as a JSON number or a decimal string.
fn number_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn malformed(message: String) -> Error {
    Error::new(ErrorCode::MalformedBlob, message)
}

/// Whether `input` is the JSON form (first non-blank byte `{`; no BlobInfo protobuf starts so).
pub fn looks_like_json(input: &[u8]) -> bool {
    input.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BlobInfo {
        BlobInfo {
            ciphertext: vec![1, 2, 3, 0xff],
            iv: vec![9; 12],
            key_info: Some(KeyInfo {
                mechanism: 0,
                key_id: "ocid1.keyversion.oc1..v".into(),
                wrapped_key: b"T0NJ".to_vec(),
                key_purposes: vec![1, 2],
                ..KeyInfo::default()
            }),
            client_data: Some(vec![10, 0]),
            ..BlobInfo::default()
        }
    }

    #[test]
    fn round_trips_and_uses_protojson_names() {
        let json = to_json(&sample());
        assert_eq!(json["keyInfo"]["keyId"], "ocid1.keyversion.oc1..v");
        assert_eq!(json["keyInfo"]["mechanism"], 0);
        assert_eq!(json["keyInfo"]["wrappedKey"], B64.encode(b"T0NJ"));
        assert!(json.get("hmac").is_none(), "zero values are left out");
        let back = from_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(back, sample());
        assert_eq!(back.encode_bytes(), sample().encode_bytes());
    }

    #[test]
    fn accepts_snake_case_and_string_numbers() {
        let text = r#"{"ciphertext":"AQID","key_info":{"mechanism":"1","key_id":"v"}}"#;
        let blob = from_json(text.as_bytes()).unwrap();
        assert_eq!(blob.ciphertext, vec![1, 2, 3]);
        assert_eq!(blob.key_info.unwrap().mechanism, 1);
    }

    #[test]
    fn rejects_bad_base64_and_types() {
        let err = from_json(br#"{"ciphertext":"%%%"}"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedBlob);
        assert!(err.message().contains("ciphertext"), "{err}");
        assert!(from_json(br#"{"keyInfo":{"mechanism":-1}}"#).is_err());
        assert!(from_json(b"[1]").is_err());
        assert!(from_json(b"{").is_err());
    }

    #[test]
    fn detects_json_input() {
        assert!(looks_like_json(b"  {\"iv\":\"\"}"));
        assert!(!looks_like_json(&sample().encode_bytes()));
        assert!(!looks_like_json(b"multiwrapvalue:1"));
    }
}
