// SPDX-License-Identifier: MPL-2.0
//! The `--config` file of the emulated world (TOML or JSON) and the permissive single-tenancy
//! default generated when there is none.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::encoding::new_ocid;
use crate::faults::FaultPlan;

/// The `--config` file (also what the default world is persisted as in `DIR/world.json`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldConfig {
    /// Region name reported by instance metadata and written to the OCI config.
    #[serde(default)]
    pub region: Option<String>,
    /// What `/opc/v2/instance/region` answers, e.g. a short code like `iad` (default: `region`).
    #[serde(default)]
    pub metadata_region: Option<String>,
    /// Lifetime of issued session tokens (`30s`, `5m`, `1h`); default 1h.
    #[serde(default)]
    pub token_lifetime: Option<String>,
    /// Which principals and key the ready-made files and `endpoints.json` use.
    #[serde(default)]
    pub ready: ReadyConfig,
    /// Faults and rate limits active from start.
    #[serde(default)]
    pub faults: Option<FaultPlan>,
    /// The tenancies.
    pub tenancies: Vec<TenancyConfig>,
}

/// Choice of the ready principals; each defaults to the first of its kind in the first tenancy.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadyConfig {
    /// User OCID that gets the fresh API key of `DIR/oci/config`.
    pub user: Option<String>,
    /// Instance OCID served by the metadata endpoint.
    pub instance: Option<String>,
    /// Key OCID reported as `key_id`.
    pub key: Option<String>,
    /// Resource OCID whose resource principal token is written to `DIR/rp/`.
    pub resource: Option<String>,
    /// Workload OCID identified by the service-account token written to `DIR/workload/`.
    pub workload: Option<String>,
}

/// One tenancy.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenancyConfig {
    /// Name (used in messages only).
    pub name: String,
    /// Tenancy OCID (also the root compartment's OCID).
    pub id: String,
    /// Policy statements (REFERENCE §6 subset), all attached at the root compartment.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Compartments below the root.
    #[serde(default)]
    pub compartments: Vec<CompartmentConfig>,
    /// Users.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Groups (a user's group that is not listed here gets a generated OCID).
    #[serde(default)]
    pub groups: Vec<NamedConfig>,
    /// Dynamic groups and their members (instance / resource / workload OCIDs).
    #[serde(default)]
    pub dynamic_groups: Vec<DynamicGroupConfig>,
    /// Compute instances.
    #[serde(default)]
    pub instances: Vec<WorkloadConfig>,
    /// Resource principals (functions, jobs, ...) and OKE workloads.
    #[serde(default)]
    pub resources: Vec<ResourceConfig>,
    /// Vaults.
    #[serde(default)]
    pub vaults: Vec<WorkloadConfig>,
    /// Keys (AES-256; their material is generated on first start and persisted).
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
}

/// A compartment; `parent` is a compartment name or OCID (default: the root).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompartmentConfig {
    /// Name, unique in the tenancy.
    pub name: String,
    /// OCID.
    pub id: String,
    /// Parent compartment name or OCID.
    #[serde(default)]
    pub parent: Option<String>,
}

/// A user with API public keys (PEM) and group names.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// OCID.
    pub id: String,
    /// Group names.
    #[serde(default)]
    pub groups: Vec<String>,
    /// PEM public keys (SPKI `PUBLIC KEY` or `RSA PUBLIC KEY`).
    #[serde(default)]
    pub public_keys: Vec<String>,
}

/// Something with a name and an OCID.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedConfig {
    /// Name.
    pub name: String,
    /// OCID.
    pub id: String,
}

/// A dynamic group with explicit members.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicGroupConfig {
    /// Name.
    pub name: String,
    /// OCID.
    pub id: String,
    /// Member OCIDs (instances, resources, workloads).
    #[serde(default)]
    pub members: Vec<String>,
}

/// An instance or vault: OCID + compartment (name or OCID; default the root).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadConfig {
    /// OCID.
    pub id: String,
    /// Compartment name or OCID.
    #[serde(default)]
    pub compartment: Option<String>,
}

/// A resource principal (`kind = "resource"`) or OKE workload (`kind = "workload"`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceConfig {
    /// OCID.
    pub id: String,
    /// `resource` or `workload`.
    pub kind: String,
    /// Compartment name or OCID.
    #[serde(default)]
    pub compartment: Option<String>,
}

/// A key: OCID, vault OCID, compartment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// OCID.
    pub id: String,
    /// Vault OCID.
    pub vault: String,
    /// Compartment name or OCID.
    #[serde(default)]
    pub compartment: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
}
impl WorldConfig {
    /// Reads a TOML (`.toml`) or JSON file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        let is_toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if is_toml {
            toml::from_str(&text)
                .map_err(|e| format!("config {} is not valid: {e}", path.display()))
        } else {
            serde_json::from_str(&text)
                .map_err(|e| format!("config {} is not valid JSON: {e}", path.display()))
        }
    }

    /// The permissive default: one tenancy, one compartment, a user in `Administrators`, an
    /// instance, a resource principal and a workload in the dynamic group `EmulatorWorkloads`,
    /// both allowed to manage keys in the tenancy; one vault and one key.
    pub fn permissive_default(region: &str) -> Self {
        let tenancy = new_ocid("tenancy");
        let compartment = new_ocid("compartment");
        let user = new_ocid("user");
        let instance = new_ocid("instance");
        let resource = new_ocid("fnfunc");
        let workload = new_ocid("workload");
        let vault = new_ocid("vault");
        let key = new_ocid("key");
        let place = Some("emulator".to_string());
        WorldConfig {
            region: Some(region.to_string()),
            metadata_region: None,
            token_lifetime: None,
            ready: ReadyConfig::default(),
            faults: None,
            tenancies: vec![TenancyConfig {
                name: "emulator".into(),
                id: tenancy,
                policies: vec![
                    "allow group Administrators to manage keys in tenancy".into(),
                    "allow dynamic-group EmulatorWorkloads to manage keys in tenancy".into(),
                ],
                compartments: vec![CompartmentConfig {
                    name: "emulator".into(),
                    id: compartment,
                    parent: None,
                }],
                users: vec![UserConfig {
                    id: user,
                    groups: vec!["Administrators".into()],
                    public_keys: vec![],
                }],
                groups: vec![NamedConfig { name: "Administrators".into(), id: new_ocid("group") }],
                dynamic_groups: vec![DynamicGroupConfig {
                    name: "EmulatorWorkloads".into(),
                    id: new_ocid("dynamicgroup"),
                    members: vec![instance.clone(), resource.clone(), workload.clone()],
                }],
                instances: vec![WorkloadConfig { id: instance, compartment: place.clone() }],
                resources: vec![
                    ResourceConfig {
                        id: resource,
                        kind: "resource".into(),
                        compartment: place.clone(),
                    },
                    ResourceConfig {
                        id: workload,
                        kind: "workload".into(),
                        compartment: place.clone(),
                    },
                ],
                vaults: vec![WorkloadConfig { id: vault.clone(), compartment: place.clone() }],
                keys: vec![KeyConfig {
                    id: key,
                    vault,
                    compartment: place,
                    display_name: Some("emulator-key".into()),
                }],
            }],
        }
    }
}
