// SPDX-License-Identifier: MPL-2.0
//! OCI regions: short codes (`phx`) → region identifiers (`us-phoenix-1`) → realm → the
//! realm's domain (`oraclecloud.com`), to build service hosts such as
//! `auth.us-phoenix-1.oraclecloud.com`.
//!
//! The table is the public region list of the OCI SDKs (oci-go-sdk `common/regions.json`). Regions
//! it does not know resolve like the SDK does: `OCI_REGION_METADATA` (a JSON object with
//! `regionKey`, `regionIdentifier`, `realmKey`, `realmDomainComponent`), then `OCI_DEFAULT_REALM`
//! (a domain), then `oraclecloud.com`.

/// Environment variable describing one extra region (JSON, as the OCI SDKs read it).
pub const REGION_METADATA_ENV: &str = "OCI_REGION_METADATA";
/// Environment variable naming the realm domain of regions the table does not know.
pub const DEFAULT_REALM_ENV: &str = "OCI_DEFAULT_REALM";

/// Realm key → second-level domain.
const REALMS: &[(&str, &str)] = &[
    ("oc1", "oraclecloud.com"),
    ("oc2", "oraclegovcloud.com"),
    ("oc3", "oraclegovcloud.com"),
    ("oc4", "oraclegovcloud.uk"),
    ("oc8", "oraclecloud8.com"),
    ("oc9", "oraclecloud9.com"),
    ("oc10", "oraclecloud10.com"),
    ("oc14", "oraclecloud14.com"),
    ("oc15", "oraclecloud15.com"),
    ("oc19", "oraclecloud.eu"),
    ("oc20", "oraclecloud20.com"),
    ("oc21", "oraclecloud21.com"),
    ("oc23", "oraclecloud23.com"),
    ("oc24", "oraclecloud24.com"),
    ("oc26", "oraclecloud26.com"),
    ("oc29", "oraclecloud29.com"),
    ("oc35", "oraclecloud35.com"),
    ("oc42", "oraclecloud42.com"),
    ("oc51", "oraclecloud51.com"),
    ("oc52", "oraclecloud52.com"),
];

/// (short code, region identifier, realm key).
const REGIONS: &[(&str, &str, &str)] = &[
    ("lej", "af-casablanca-1", "oc1"),
    ("jnb", "af-johannesburg-1", "oc1"),
    ("hsg", "ap-batam-1", "oc1"),
    ("nja", "ap-chiyoda-1", "oc8"),
    ("yny", "ap-chuncheon-1", "oc1"),
    ("bno", "ap-chuncheon-2", "oc35"),
    ("wga", "ap-dcc-canberra-1", "oc10"),
    ("dac", "ap-dcc-gazipur-1", "oc15"),
    ("onm", "ap-delhi-1", "oc1"),
    ("hyd", "ap-hyderabad-1", "oc1"),
    ("ukb", "ap-ibaraki-1", "oc8"),
    ("jbp", "ap-kulai-2", "oc1"),
    ("mel", "ap-melbourne-1", "oc1"),
    ("bom", "ap-mumbai-1", "oc1"),
    ("kix", "ap-osaka-1", "oc1"),
    ("icn", "ap-seoul-1", "oc1"),
    ("dtz", "ap-seoul-2", "oc35"),
    ("sin", "ap-singapore-1", "oc1"),
    ("xsp", "ap-singapore-2", "oc1"),
    ("dln", "ap-suwon-1", "oc35"),
    ("syd", "ap-sydney-1", "oc1"),
    ("nrt", "ap-tokyo-1", "oc1"),
    ("yul", "ca-montreal-1", "oc1"),
    ("yyz", "ca-toronto-1", "oc1"),
    ("ams", "eu-amsterdam-1", "oc1"),
    ("jsk", "eu-budapest-1", "oc51"),
    ("avf", "eu-crissier-1", "oc24"),
    ("ork", "eu-dcc-dublin-1", "oc14"),
    ("snn", "eu-dcc-dublin-2", "oc14"),
    ("bgy", "eu-dcc-milan-1", "oc14"),
    ("mxp", "eu-dcc-milan-2", "oc14"),
    ("dus", "eu-dcc-rating-1", "oc14"),
    ("dtm", "eu-dcc-rating-2", "oc14"),
    ("avz", "eu-dcc-zurich-1", "oc24"),
    ("fra", "eu-frankfurt-1", "oc1"),
    ("str", "eu-frankfurt-2", "oc19"),
    ("beg", "eu-jovanovac-1", "oc20"),
    ("mad", "eu-madrid-1", "oc1"),
    ("vll", "eu-madrid-2", "oc19"),
    ("orf", "eu-madrid-3", "oc1"),
    ("mrs", "eu-marseille-1", "oc1"),
    ("lin", "eu-milan-1", "oc1"),
    ("cdg", "eu-paris-1", "oc1"),
    ("arn", "eu-stockholm-1", "oc1"),
    ("nrq", "eu-turin-1", "oc1"),
    ("zrh", "eu-zurich-1", "oc1"),
    ("mtz", "il-jerusalem-1", "oc1"),
    ("auh", "me-abudhabi-1", "oc1"),
    ("rkt", "me-abudhabi-2", "oc29"),
    ("ahu", "me-abudhabi-3", "oc26"),
    ("shj", "me-abudhabi-4", "oc29"),
    ("rba", "me-alain-1", "oc26"),
    ("vve", "me-alrayyan-1", "oc21"),
    ("doh", "me-dcc-doha-1", "oc21"),
    ("mct", "me-dcc-muscat-1", "oc9"),
    ("dxb", "me-dubai-1", "oc1"),
    ("ibr", "me-ibri-1", "oc9"),
    ("jed", "me-jeddah-1", "oc1"),
    ("ruh", "me-riyadh-1", "oc1"),
    ("mty", "mx-monterrey-1", "oc1"),
    ("qro", "mx-queretaro-1", "oc1"),
    ("bog", "sa-bogota-1", "oc1"),
    ("hnw", "sa-riodejaneiro-1", "oc52"),
    ("scl", "sa-santiago-1", "oc1"),
    ("gru", "sa-saopaulo-1", "oc1"),
    ("vap", "sa-valparaiso-1", "oc1"),
    ("vcp", "sa-vinhedo-1", "oc1"),
    ("cwl", "uk-cardiff-1", "oc1"),
    ("brs", "uk-gov-cardiff-1", "oc4"),
    ("ltn", "uk-gov-london-1", "oc4"),
    ("lhr", "uk-london-1", "oc1"),
    ("iad", "us-ashburn-1", "oc1"),
    ("yxj", "us-ashburn-2", "oc42"),
    ("ord", "us-chicago-1", "oc1"),
    ("ric", "us-gov-ashburn-1", "oc3"),
    ("pia", "us-gov-chicago-1", "oc3"),
    ("tus", "us-gov-phoenix-1", "oc3"),
    ("lfi", "us-langley-1", "oc2"),
    ("luf", "us-luke-1", "oc2"),
    ("pgc", "us-newark-1", "oc42"),
    ("phx", "us-phoenix-1", "oc1"),
    ("aga", "us-saltlake-2", "oc1"),
    ("sjc", "us-sanjose-1", "oc1"),
    ("ebb", "us-somerset-1", "oc23"),
    ("ebl", "us-thames-1", "oc23"),
];

/// A resolved region: its identifier and the domain of its realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The region identifier (`us-phoenix-1`), or the name as given when it is not known.
    pub id: String,
    /// The realm's second-level domain (`oraclecloud.com`); empty for a dotted region name,
    /// which already carries its domain.
    pub realm_domain: String,
}

impl Region {
    /// The host of an OCI service in this region: `<service>.<region>.<realm domain>`, or
    /// `<service>.<region>` when the region name itself contains a dot (as the SDKs do).
    pub fn service_host(&self, service: &str) -> String {
        if self.realm_domain.is_empty() {
            format!("{service}.{}", self.id)
        } else {
            format!("{service}.{}.{}", self.id, self.realm_domain)
        }
    }
}

/// Resolves a region name or short code (case-insensitive, surrounding whitespace ignored),
/// looking regions the table does not know up in `env` (see the module docs).
pub fn resolve_region_with(name: &str, env: &dyn Fn(&str) -> Option<String>) -> Region {
    let name = name.trim().to_ascii_lowercase();
    let known = REGIONS.iter().find(|(code, id, _)| *code == name || *id == name);
    if let Some((_, id, realm)) = known {
        return Region { id: (*id).to_string(), realm_domain: realm_domain(realm).to_string() };
    }
    if name.contains('.') {
        return Region { id: name, realm_domain: String::new() };
    }
    if let Some(region) =
        env(REGION_METADATA_ENV).and_then(|json| region_from_metadata(&json, &name))
    {
        return region;
    }
    let realm_domain = env(DEFAULT_REALM_ENV)
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| realm_domain("oc1").to_string());
    Region { id: name, realm_domain }
}

/// The domain of a realm key (`oc1` → `oraclecloud.com`); `oraclecloud.com` for unknown keys.
fn realm_domain(realm: &str) -> &'static str {
    REALMS.iter().find(|(key, _)| *key == realm).map_or("oraclecloud.com", |(_, domain)| domain)
}

/// The region described by an `OCI_REGION_METADATA` value, if it names `name`.
fn region_from_metadata(json: &str, name: &str) -> Option<Region> {
    let meta: serde_json::Value = serde_json::from_str(json).ok()?;
    let field =
        |key: &str| meta.get(key).and_then(|v| v.as_str()).map(|s| s.trim().to_ascii_lowercase());
    let id = field("regionIdentifier")?;
    let domain = field("realmDomainComponent")?;
    let matches = id == name || field("regionKey").is_some_and(|key| key == name);
    (matches && !domain.is_empty()).then_some(Region { id, realm_domain: domain })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn short_codes_and_identifiers_resolve_to_their_realm() {
        let phx = resolve_region_with("phx", &no_env);
        assert_eq!(
            phx,
            Region { id: "us-phoenix-1".into(), realm_domain: "oraclecloud.com".into() }
        );
        assert_eq!(phx.service_host("auth"), "auth.us-phoenix-1.oraclecloud.com");
        assert_eq!(resolve_region_with(" IAD\n", &no_env).id, "us-ashburn-1");
        assert_eq!(resolve_region_with("us-langley-1", &no_env).realm_domain, "oraclegovcloud.com");
        assert_eq!(
            resolve_region_with("ric", &no_env).service_host("auth"),
            "auth.us-gov-ashburn-1.oraclegovcloud.com"
        );
        assert_eq!(resolve_region_with("ltn", &no_env).realm_domain, "oraclegovcloud.uk");
        assert_eq!(resolve_region_with("nja", &no_env).realm_domain, "oraclecloud8.com");
        assert_eq!(resolve_region_with("eu-madrid-2", &no_env).realm_domain, "oraclecloud.eu");
        assert_eq!(resolve_region_with("sjc", &no_env).id, "us-sanjose-1");
    }

    #[test]
    fn dotted_regions_carry_their_own_domain() {
        let region = resolve_region_with("us-foo-1.example.com", &no_env);
        assert_eq!(region.service_host("auth"), "auth.us-foo-1.example.com");
    }

    #[test]
    fn unknown_regions_use_region_metadata_then_default_realm() {
        let meta = r#"{"realmKey":"oc99","realmDomainComponent":"example.cloud",
                       "regionKey":"xyz","regionIdentifier":"xx-test-1"}"#;
        let env = |var: &str| match var {
            REGION_METADATA_ENV => Some(meta.to_string()),
            DEFAULT_REALM_ENV => Some("fallback.example".to_string()),
            _ => None,
        };
        assert_eq!(
            resolve_region_with("XYZ", &env).service_host("auth"),
            "auth.xx-test-1.example.cloud"
        );
        assert_eq!(resolve_region_with("xx-test-1", &env).realm_domain, "example.cloud");
        assert_eq!(resolve_region_with("xx-other-1", &env).realm_domain, "fallback.example");
        assert_eq!(resolve_region_with("xx-other-1", &no_env).realm_domain, "oraclecloud.com");
    }
}
