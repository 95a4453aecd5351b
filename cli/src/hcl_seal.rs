// SPDX-License-Identifier: MPL-2.0
//! Reads the `seal "ocikms" { ... }` block of a Vault HCL config file into the config map the
//! library takes (the same map Vault hands the seal).

use std::collections::BTreeMap;
use std::path::Path;

use hcl::{Block, Expression};
use ocikms::{Error, Result};
use serde_json::Value;

/// The seal type label Vault uses for this seal.
const SEAL_TYPE: &str = "ocikms";

/// The attributes of the `seal "ocikms"` block of `path`. With several such blocks (Vault's seal
/// HA), `name` picks the one whose `name` attribute matches.
pub fn read_seal_block(path: &Path, name: Option<&str>) -> Result<BTreeMap<String, Value>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(format!("cannot read the Vault config file {}: {e}", path.display()))
    })?;
    seal_block(&text, name).map_err(|e| e.context(path.display()))
}

/// [`read_seal_block`] on the file's text.
pub fn seal_block(text: &str, name: Option<&str>) -> Result<BTreeMap<String, Value>> {
    let body = hcl::parse(text).map_err(|e| {
        Error::config(format!("not valid HCL ({e}); fix the syntax Vault would reject too"))
    })?;
    let seals: Vec<&Block> = body
        .blocks()
        .filter(|b| b.identifier() == "seal")
        .filter(|b| b.labels().first().is_some_and(|l| l.as_str() == SEAL_TYPE))
        .collect();
    let mut maps = seals.iter().map(|b| attributes(b)).collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = maps
        .iter()
        .map(|m| m.get("name").and_then(Value::as_str).unwrap_or("").to_owned())
        .collect();
    match (maps.len(), name) {
        (0, _) => Err(Error::config(format!(
            "no `seal \"{SEAL_TYPE}\" {{ ... }}` block: add one (see `ocikms check --help`) or give \
             the settings as flags"
        ))),
        (_, Some(wanted)) => match names.iter().position(|n| n == wanted) {
            Some(i) => Ok(maps.swap_remove(i)),
            None => Err(Error::config(format!(
                "no `seal \"{SEAL_TYPE}\"` block has name = {wanted:?}; the names are {names:?}"
            ))),
        },
        (1, None) => Ok(maps.swap_remove(0)),
        (_, None) => Err(Error::config(format!(
            "{} `seal \"{SEAL_TYPE}\"` blocks (names {names:?}): pick one with --seal-name",
            maps.len()
        ))),
    }
}

/// The `env = ["NAME=value", ...]` list of the file's `plugin "kms" "ocikms"` block (OpenBao's
/// external KMS plugin), as `(name, value)` pairs; empty when there is no such block or no `env`.
pub fn plugin_env(text: &str) -> Result<Vec<(String, String)>> {
    let body = hcl::parse(text).map_err(|e| {
        Error::config(format!("not valid HCL ({e}); fix the syntax OpenBao would reject too"))
    })?;
    let plugin = body.blocks().find(|b| {
        let labels: Vec<&str> = b.labels().iter().map(|l| l.as_str()).collect();
        b.identifier() == "plugin" && labels == ["kms", SEAL_TYPE]
    });
    let Some(env) = plugin.and_then(|b| b.body().attributes().find(|a| a.key() == "env")) else {
        return Ok(Vec::new());
    };
    let invalid = || {
        Error::config(format!(
            "plugin \"kms\" \"{SEAL_TYPE}\": env must be a list of \"NAME=value\" strings"
        ))
    };
    let Expression::Array(items) = env.expr() else { return Err(invalid()) };
    items
        .iter()
        .map(|item| match literal(item) {
            Some(Value::String(entry)) => entry
                .split_once('=')
                .filter(|(name, _)| !name.is_empty())
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .ok_or_else(invalid),
            _ => Err(invalid()),
        })
        .collect()
}

/// A block's attributes as JSON values; nested blocks and non-literal expressions are errors.
fn attributes(block: &Block) -> Result<BTreeMap<String, Value>> {
    if let Some(nested) = block.body().blocks().next() {
        return Err(Error::config(format!(
            "seal \"{SEAL_TYPE}\": unexpected nested block `{}`; the seal takes only `key = value` settings",
            nested.identifier()
        )));
    }
    block
        .body()
        .attributes()
        .map(|attr| {
            let value = literal(attr.expr()).ok_or_else(|| {
                Error::config(format!(
                    "seal \"{SEAL_TYPE}\": {} must be a string, number or boolean literal \
                     (Vault does not evaluate expressions here)",
                    attr.key()
                ))
            })?;
            Ok((attr.key().to_owned(), value))
        })
        .collect()
}

fn literal(expr: &Expression) -> Option<Value> {
    match expr {
        Expression::Null => Some(Value::Null),
        Expression::Bool(b) => Some(Value::Bool(*b)),
        Expression::String(s) => Some(Value::String(s.clone())),
        Expression::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Value::from(i))
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map(Value::Number)
            }
        }
        Expression::Parenthesis(inner) => literal(inner),
        // A heredoc (`private_key = <<EOF ... EOF`) or quoted template without interpolation.
        Expression::TemplateExpr(template) => {
            let template = hcl::Template::from_expr(template).ok()?;
            template
                .elements()
                .iter()
                .map(|element| match element {
                    hcl::template::Element::Literal(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Option<String>>()
                .map(Value::String)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAULT_HCL: &str = r#"
storage "raft" { path = "/var/lib/vault" }
listener "tcp" { address = "0.0.0.0:8200" }
seal "awskms" { kms_key_id = "x" }
seal "ocikms" {
  keyID          = "ocid1.key.oc1..k"
  cryptoEndpoint = "https://v-crypto.kms.us-ashburn-1.oraclecloud.com"
  authTypeAPIKey = true
  max_retries    = 3
}
"#;

    #[test]
    fn reads_the_ocikms_block_only() {
        let map = seal_block(VAULT_HCL, None).unwrap();
        assert_eq!(map["keyID"], "ocid1.key.oc1..k");
        assert_eq!(map["authTypeAPIKey"], true);
        assert_eq!(map["max_retries"], 3);
        assert!(!map.contains_key("kms_key_id"));
    }

    #[test]
    fn several_blocks_need_a_name() {
        let text = r#"
seal "ocikms" {
  name   = "primary"
  key_id = "a"
}
seal "ocikms" {
  name   = "secondary"
  key_id = "b"
}
"#;
        let err = seal_block(text, None).unwrap_err();
        assert!(err.message().contains("--seal-name"), "{err}");
        assert_eq!(seal_block(text, Some("secondary")).unwrap()["key_id"], "b");
        assert!(seal_block(text, Some("third")).is_err());
    }

    #[test]
    fn heredocs_without_interpolation_are_strings() {
        let text = "seal \"ocikms\" {\n  private_key = <<EOF\n-----BEGIN PRIVATE KEY-----\nAAAA\n\
                    -----END PRIVATE KEY-----\nEOF\n  indented = <<-EOT\n    a\n      b\n    EOT\n}\n";
        let map = seal_block(text, None).unwrap();
        assert_eq!(
            map["private_key"],
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        );
        assert_eq!(map["indented"], "a\n  b\n");
        let err =
            seal_block("seal \"ocikms\" {\n  k = <<EOF\n${var.x}\nEOF\n}\n", None).unwrap_err();
        assert!(err.message().contains("k must be a string"), "{err}");
    }

    #[test]
    fn reads_the_openbao_plugin_stanza_env() {
        let text = r#"
plugin "kms" "other" { env = ["A=1"] }
plugin "kms" "ocikms" {
  command = "openbao-plugin-kms-ocikms"
  env     = ["OCI_CONFIG_FILE=/etc/openbao/oci/config", "X=a=b"]
}
seal "ocikms" { key_id = "k" }
"#;
        let env = plugin_env(text).unwrap();
        assert_eq!(
            env,
            [
                ("OCI_CONFIG_FILE".to_owned(), "/etc/openbao/oci/config".to_owned()),
                ("X".to_owned(), "a=b".to_owned())
            ]
        );
        assert!(plugin_env(VAULT_HCL).unwrap().is_empty());
        for bad in [r#"env = "A=1""#, r#"env = ["A"]"#, r#"env = [1]"#, r#"env = ["=1"]"#] {
            let text = format!("plugin \"kms\" \"ocikms\" {{ {bad} }}");
            let err = plugin_env(&text).unwrap_err();
            assert!(err.message().contains("NAME=value"), "{bad}: {err}");
        }
    }

    #[test]
    fn rejects_missing_block_bad_syntax_and_expressions() {
        assert!(seal_block("storage \"raft\" {}", None)
            .unwrap_err()
            .message()
            .contains("no `seal"));
        assert!(seal_block("seal \"ocikms\" {", None)
            .unwrap_err()
            .message()
            .contains("not valid HCL"));
        let err = seal_block("seal \"ocikms\" { key_id = \"${var.k}\" }", None).unwrap_err();
        assert!(err.message().contains("key_id must be a string"), "{err}");
    }
}
