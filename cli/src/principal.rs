// SPDX-License-Identifier: MPL-2.0
//! Who the seal authenticates as, with the OCIDs an operator needs to write IAM policies: from
//! the OCI config profile, the instance certificate, or the session token's claims.

use std::sync::Arc;

use ocikms::auth::config_file::OciProfile;
use ocikms::auth::jwt;
use ocikms::auth::metadata::{MetadataClient, LEAF_CERT_PATH};
use ocikms::auth::PrincipalType;
use ocikms::config::{process_env, AuthType, SealConfig};
use ocikms::http::HttpClient;
use ocikms::{Error, Result};
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The principal's identity, as far as it is known.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    /// `user`, `instance`, `resource`, `workload`, `session`.
    pub kind: &'static str,
    /// The principal's own OCID (user, instance, resource, workload), if known.
    pub id: Option<String>,
    /// Its home tenancy OCID, if known.
    pub tenancy: Option<String>,
    /// Its compartment OCID (instances, resources), if known.
    pub compartment: Option<String>,
    /// Where the identity came from (profile and file, metadata URL, token).
    pub source: String,
}

impl Principal {
    /// A principal of `kind` about which nothing more is known yet.
    pub fn unknown(kind: PrincipalType, source: String) -> Principal {
        Principal { kind: kind.as_str(), id: None, tenancy: None, compartment: None, source }
    }

    /// `(label, value)` lines for the report.
    pub fn details(&self) -> Vec<(String, String)> {
        let mut out = vec![("principal".to_owned(), self.kind.to_owned())];
        let label = match self.kind {
            "user" | "session" => "user",
            other => other,
        };
        for (name, value) in
            [(label, &self.id), ("tenancy", &self.tenancy), ("compartment", &self.compartment)]
        {
            if let Some(v) = value {
                out.push((name.to_owned(), v.clone()));
            }
        }
        out.push(("from".to_owned(), self.source.clone()));
        out
    }
}

/// The user and tenancy of the OCI config profile the API key / session token comes from, or of
/// the API-key credentials given in the seal configuration itself.
pub fn from_profile(config: &SealConfig, kind: PrincipalType) -> Result<Principal> {
    if let Some(credentials) =
        config.api_key_credentials.as_ref().filter(|_| kind == PrincipalType::User)
    {
        let mut principal = Principal::unknown(
            kind,
            "the seal configuration (tenancy_ocid, user_ocid, private_key)".to_owned(),
        );
        principal.id = Some(credentials.user.clone());
        principal.tenancy = Some(credentials.tenancy.clone());
        return Ok(principal);
    }
    let profile = OciProfile::locate_and_load(
        config.config_file.as_deref(),
        config.config_profile.as_deref(),
        &process_env,
    )?;
    let mut principal = Principal::unknown(kind, profile.describe());
    principal.id = profile.get("user").map(str::to_owned);
    principal.tenancy = profile.get("tenancy").map(str::to_owned);
    Ok(principal)
}

/// The principal kind an auth type authenticates as.
pub fn kind_of(auth_type: AuthType) -> PrincipalType {
    match auth_type {
        AuthType::ApiKey => PrincipalType::User,
        AuthType::InstancePrincipal => PrincipalType::Instance,
        AuthType::ResourcePrincipal => PrincipalType::Resource,
        AuthType::WorkloadIdentity => PrincipalType::Workload,
        AuthType::SecurityToken => PrincipalType::Session,
    }
}

/// The principal as far as known without network calls: the profile's user for API keys and
/// session tokens, else just its kind.
pub fn offline(config: &SealConfig) -> Principal {
    let kind = kind_of(config.auth_type);
    match kind {
        PrincipalType::User | PrincipalType::Session => from_profile(config, kind)
            .unwrap_or_else(|_| Principal::unknown(kind, "the OCI config file".to_owned())),
        _ => Principal::unknown(kind, config.auth_type.as_str().to_owned()),
    }
}

/// What the instance metadata service says about this instance: region, and the instance,
/// compartment and tenancy OCIDs of its identity certificate's subject.
pub struct InstanceMetadata {
    /// The metadata service base URL used.
    pub base_url: String,
    /// The region it reports.
    pub region: String,
    /// The instance principal.
    pub principal: Principal,
}

/// Reads the instance metadata (region and identity certificate).
pub async fn instance_metadata(config: &SealConfig) -> Result<InstanceMetadata> {
    let tls = ocikms::http::tls_config(config.ca_cert.as_deref())?;
    let metadata = MetadataClient::from_env(&process_env, Arc::new(HttpClient::new(tls)));
    let base_url = metadata.url("");
    let region = metadata.region().await?;
    let pem = metadata.leaf_certificate().await?;
    let subject = certificate_subject(&pem).map_err(|why| {
        Error::credentials(format!(
            "the instance certificate at {} {why}",
            metadata.url(LEAF_CERT_PATH)
        ))
    })?;
    let attr =
        |prefix: &str| subject.iter().find_map(|v| v.strip_prefix(prefix)).map(str::to_owned);
    let id = attr("opc-instance:")
        .or_else(|| subject.iter().find(|v| v.starts_with("ocid1.instance.")).cloned());
    let principal = Principal {
        kind: PrincipalType::Instance.as_str(),
        id,
        tenancy: attr("opc-tenant:"),
        compartment: attr("opc-compartment:"),
        source: format!("instance metadata {base_url}"),
    };
    Ok(InstanceMetadata { base_url, region, principal })
}

/// Every attribute value of the subject of the first certificate in `pem`.
fn certificate_subject(pem: &str) -> std::result::Result<Vec<String>, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| format!("is not a PEM certificate ({e})"))?;
    let (_, cert) = X509Certificate::from_der(&block.contents)
        .map_err(|e| format!("is not a valid X.509 certificate ({e})"))?;
    Ok(cert
        .subject()
        .iter_attributes()
        .filter_map(|a| a.as_str().ok().map(str::to_owned))
        .collect())
}

/// Fills what a session token's claims say (`sub`, `res_tenant`, `res_compartment`, `tenant`)
/// into `principal`. `key_id` is the signing key id `ST$<jwt>`; the token is never kept.
pub fn add_token_claims(principal: &mut Principal, key_id: &str) {
    let Some(claims) = key_id.strip_prefix("ST$").and_then(|token| jwt::jwt_payload(token).ok())
    else {
        return;
    };
    let claim = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    if principal.id.is_none() {
        principal.id = claim("sub").filter(|s| s.starts_with("ocid1."));
    }
    if principal.tenancy.is_none() {
        principal.tenancy = claim("res_tenant").or_else(|| claim("tenant"));
    }
    if principal.compartment.is_none() {
        principal.compartment = claim("res_compartment");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    #[test]
    fn token_claims_fill_missing_fields_only() {
        let payload = serde_json::json!({
            "sub": "ocid1.fnfunc.oc1..f", "res_tenant": "ocid1.tenancy.oc1..t",
            "res_compartment": "ocid1.compartment.oc1..c", "exp": 1
        });
        let jwt = format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(payload.to_string()));
        let mut p = Principal::unknown(PrincipalType::Resource, "token".into());
        p.tenancy = Some("ocid1.tenancy.oc1..known".into());
        add_token_claims(&mut p, &format!("ST${jwt}"));
        assert_eq!(p.id.as_deref(), Some("ocid1.fnfunc.oc1..f"));
        assert_eq!(p.tenancy.as_deref(), Some("ocid1.tenancy.oc1..known"));
        assert_eq!(p.compartment.as_deref(), Some("ocid1.compartment.oc1..c"));
        // An API key id is not a token: nothing changes.
        let mut q = Principal::unknown(PrincipalType::User, "profile".into());
        add_token_claims(&mut q, "ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb");
        assert!(q.id.is_none());
    }

    #[test]
    fn certificate_subject_rejects_what_is_not_a_certificate() {
        assert!(certificate_subject("not a pem").is_err());
        let not_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(certificate_subject(not_der).is_err());
    }
}
