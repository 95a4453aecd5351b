// SPDX-License-Identifier: MPL-2.0
//! The emulated OCI world: tenancies, compartments, users and their API keys, groups, dynamic
//! groups, instances and other workloads, policies, vaults and keys — loaded from `--config`
//! (TOML or JSON) or generated as a permissive single-tenancy default.

use std::collections::HashMap;
use std::path::Path;

use aws_lc_rs::signature::ParsedPublicKey;
use serde::{Deserialize, Serialize};

use crate::encoding::new_ocid;
use crate::faults::FaultPlan;
use crate::iam::{self, Location, Statement};
use crate::rsakeys;

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

/// What kind of principal a request acts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// An IAM user (API key).
    User,
    /// A compute instance (instance principal).
    Instance,
    /// A resource principal.
    Resource,
    /// An OKE workload.
    Workload,
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Kind.
    pub kind: PrincipalKind,
    /// OCID.
    pub id: String,
    /// Home tenancy OCID.
    pub tenancy: String,
}

struct Tenancy {
    id: String,
    policies: Vec<Statement>,
}

struct Compartment {
    tenancy: String,
    name: String,
    parent: Option<String>,
}

/// A placed workload: tenancy and compartment OCIDs.
#[derive(Clone, Debug)]
pub struct Placement {
    /// Tenancy OCID.
    pub tenancy: String,
    /// Compartment OCID.
    pub compartment: String,
}

/// An API key registered for a user.
pub struct ApiKey {
    /// The user it authenticates.
    pub principal: Principal,
    /// Parsed public key.
    pub key: ParsedPublicKey,
}

/// The resolved ready principals and key.
#[derive(Clone, Debug)]
pub struct Ready {
    /// Tenancy of the ready user.
    pub tenancy: String,
    /// The ready user.
    pub user: String,
    /// The ready instance, if any.
    pub instance: Option<String>,
    /// The ready key.
    pub key: String,
    /// The ready resource principal, if any.
    pub resource: Option<String>,
    /// The ready OKE workload, if any.
    pub workload: Option<String>,
}

/// A configured key, created (with fresh material) on first start.
#[derive(Clone, Debug)]
pub struct SeedKey {
    /// Key OCID.
    pub id: String,
    /// Vault OCID.
    pub vault: String,
    /// Compartment OCID.
    pub compartment: String,
    /// Display name.
    pub display_name: String,
}

struct DynamicGroup {
    tenancy: String,
    name: String,
    id: String,
    members: Vec<String>,
}

/// The runtime world, immutable after start.
pub struct World {
    /// Region name.
    pub region: String,
    /// Region answer of the instance metadata service (`None`: the region name).
    pub metadata_region: Option<String>,
    /// Ready principals.
    pub ready: Ready,
    /// Keys to create on first start.
    pub seed_keys: Vec<SeedKey>,
    tenancies: Vec<Tenancy>,
    compartments: HashMap<String, Compartment>,
    users: HashMap<String, (String, Vec<String>)>,
    groups: HashMap<(String, String), String>,
    dynamic_groups: Vec<DynamicGroup>,
    workloads: HashMap<String, (PrincipalKind, Placement)>,
    vaults: HashMap<String, Placement>,
    api_keys: HashMap<String, ApiKey>,
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

impl World {
    /// Builds the runtime world; `extra_key` is the ready user's generated API key (SPKI DER).
    pub fn build(
        cfg: &WorldConfig,
        default_region: &str,
        extra_key: Option<&[u8]>,
    ) -> Result<Self, String> {
        let mut w = World {
            region: cfg.region.clone().unwrap_or_else(|| default_region.to_string()),
            metadata_region: cfg.metadata_region.clone(),
            ready: Ready {
                tenancy: String::new(),
                user: String::new(),
                instance: None,
                key: String::new(),
                resource: None,
                workload: None,
            },
            seed_keys: Vec::new(),
            tenancies: Vec::new(),
            compartments: HashMap::new(),
            users: HashMap::new(),
            groups: HashMap::new(),
            dynamic_groups: Vec::new(),
            workloads: HashMap::new(),
            vaults: HashMap::new(),
            api_keys: HashMap::new(),
        };
        if cfg.tenancies.is_empty() {
            return Err("config has no tenancies".into());
        }
        for t in &cfg.tenancies {
            w.add_tenancy(t)?;
        }
        w.resolve_ready(cfg, extra_key)?;
        Ok(w)
    }

    fn add_tenancy(&mut self, t: &TenancyConfig) -> Result<(), String> {
        let policies = t.policies.iter().map(|p| iam::parse(p)).collect::<Result<Vec<_>, _>>()?;
        self.tenancies.push(Tenancy { id: t.id.clone(), policies });
        self.compartments.insert(
            t.id.clone(),
            Compartment { tenancy: t.id.clone(), name: t.name.clone(), parent: None },
        );
        for c in &t.compartments {
            self.compartments.insert(
                c.id.clone(),
                Compartment {
                    tenancy: t.id.clone(),
                    name: c.name.clone(),
                    parent: c.parent.clone(),
                },
            );
        }
        // Parents may be names: resolve them now that all compartments are known.
        let ids: Vec<String> = t.compartments.iter().map(|c| c.id.clone()).collect();
        for id in ids {
            let parent = self.compartments[&id].parent.clone();
            let resolved = match parent {
                Some(p) => Some(self.compartment_id(&t.id, Some(&p))?),
                None => Some(t.id.clone()),
            };
            if let Some(c) = self.compartments.get_mut(&id) {
                c.parent = resolved;
            }
        }
        for g in &t.groups {
            self.groups.insert((t.id.clone(), g.name.to_ascii_lowercase()), g.id.clone());
        }
        for u in &t.users {
            for g in &u.groups {
                self.groups
                    .entry((t.id.clone(), g.to_ascii_lowercase()))
                    .or_insert_with(|| format!("ocid1.group.oc1..{}", g.to_ascii_lowercase()));
            }
            self.users.insert(u.id.clone(), (t.id.clone(), u.groups.clone()));
            for pem in &u.public_keys {
                let spki =
                    rsakeys::public_pem_to_spki(pem).map_err(|e| format!("user {}: {e}", u.id))?;
                self.register_api_key(&t.id, &u.id, &spki)?;
            }
        }
        for dg in &t.dynamic_groups {
            self.dynamic_groups.push(DynamicGroup {
                tenancy: t.id.clone(),
                name: dg.name.clone(),
                id: dg.id.clone(),
                members: dg.members.clone(),
            });
        }
        for i in &t.instances {
            let compartment = self.compartment_id(&t.id, i.compartment.as_deref())?;
            self.workloads.insert(
                i.id.clone(),
                (PrincipalKind::Instance, Placement { tenancy: t.id.clone(), compartment }),
            );
        }
        for r in &t.resources {
            let kind = match r.kind.as_str() {
                "resource" => PrincipalKind::Resource,
                "workload" => PrincipalKind::Workload,
                other => {
                    return Err(format!(
                        "resource {}: kind {other:?} is not `resource` or `workload`",
                        r.id
                    ))
                }
            };
            let compartment = self.compartment_id(&t.id, r.compartment.as_deref())?;
            self.workloads
                .insert(r.id.clone(), (kind, Placement { tenancy: t.id.clone(), compartment }));
        }
        for v in &t.vaults {
            let compartment = self.compartment_id(&t.id, v.compartment.as_deref())?;
            self.vaults.insert(v.id.clone(), Placement { tenancy: t.id.clone(), compartment });
        }
        for k in &t.keys {
            if !self.vaults.contains_key(&k.vault) {
                return Err(format!(
                    "key {}: vault {} is not configured in tenancy {}",
                    k.id, k.vault, t.name
                ));
            }
            let compartment = self.compartment_id(&t.id, k.compartment.as_deref())?;
            let display_name = k.display_name.clone().unwrap_or_else(|| "key".to_string());
            self.seed_keys.push(SeedKey {
                id: k.id.clone(),
                vault: k.vault.clone(),
                compartment,
                display_name,
            });
        }
        Ok(())
    }

    fn resolve_ready(&mut self, cfg: &WorldConfig, extra_key: Option<&[u8]>) -> Result<(), String> {
        let first = &cfg.tenancies[0];
        let user = cfg
            .ready
            .user
            .clone()
            .or_else(|| first.users.first().map(|u| u.id.clone()))
            .ok_or("config: no user for the ready API key (add a user or ready.user)")?;
        let tenancy = self
            .users
            .get(&user)
            .map(|(t, _)| t.clone())
            .ok_or(format!("ready.user {user} is not a configured user"))?;
        let key = cfg
            .ready
            .key
            .clone()
            .or_else(|| first.keys.first().map(|k| k.id.clone()))
            .ok_or("config: no key (add a key or ready.key)")?;
        if !self.seed_keys.iter().any(|k| k.id == key) {
            return Err(format!("ready.key {key} is not a configured key"));
        }
        let instance =
            cfg.ready.instance.clone().or_else(|| first.instances.first().map(|i| i.id.clone()));
        let of_kind =
            |kind: &str| first.resources.iter().find(|r| r.kind == kind).map(|r| r.id.clone());
        let resource = cfg.ready.resource.clone().or_else(|| of_kind("resource"));
        let workload = cfg.ready.workload.clone().or_else(|| of_kind("workload"));
        for id in [&instance, &resource, &workload].into_iter().flatten() {
            if !self.workloads.contains_key(id) {
                return Err(format!(
                    "ready principal {id} is not a configured instance or resource"
                ));
            }
        }
        if let Some(spki) = extra_key {
            self.register_api_key(&tenancy, &user, spki)?;
        }
        self.ready = Ready { tenancy, user, instance, key, resource, workload };
        Ok(())
    }

    fn register_api_key(&mut self, tenancy: &str, user: &str, spki: &[u8]) -> Result<(), String> {
        let key_id = format!("{tenancy}/{user}/{}", rsakeys::fingerprint(spki));
        let key = rsakeys::verifier(spki).map_err(|e| format!("user {user}: {e}"))?;
        let principal = Principal {
            kind: PrincipalKind::User,
            id: user.to_string(),
            tenancy: tenancy.to_string(),
        };
        self.api_keys.insert(key_id, ApiKey { principal, key });
        Ok(())
    }

    /// Resolves a compartment reference (name, colon path's last part, or OCID; `None` = root).
    fn compartment_id(&self, tenancy: &str, reference: Option<&str>) -> Result<String, String> {
        let Some(r) = reference else { return Ok(tenancy.to_string()) };
        if self.compartments.get(r).is_some_and(|c| c.tenancy == tenancy) {
            return Ok(r.to_string());
        }
        let name = r.rsplit(':').next().unwrap_or(r);
        self.compartments
            .iter()
            .find(|(_, c)| c.tenancy == tenancy && c.name.eq_ignore_ascii_case(name))
            .map(|(id, _)| id.clone())
            .ok_or_else(|| format!("compartment {r:?} is not defined in tenancy {tenancy}"))
    }

    /// The API key registered under `tenancy/user/fingerprint`.
    pub fn api_key(&self, key_id: &str) -> Option<&ApiKey> {
        self.api_keys.get(key_id)
    }

    /// Kind and placement of an instance, resource or workload.
    pub fn workload(&self, id: &str) -> Option<&(PrincipalKind, Placement)> {
        self.workloads.get(id)
    }

    /// (OCID, placement) of every configured principal of `kind` (instances, resources, workloads).
    pub fn principals_of_kind(&self, kind: PrincipalKind) -> Vec<(String, Placement)> {
        let mut v: Vec<(String, Placement)> = self
            .workloads
            .iter()
            .filter(|(_, (k, _))| *k == kind)
            .map(|(id, (_, p))| (id.clone(), p.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The first vault in a tenancy (where `CreateKey` puts keys).
    pub fn vault_in_tenancy(&self, tenancy: &str) -> Option<String> {
        let mut v: Vec<&String> =
            self.vaults.iter().filter(|(_, p)| p.tenancy == tenancy).map(|(id, _)| id).collect();
        v.sort();
        v.first().map(|s| s.to_string())
    }

    /// Whether a compartment OCID exists.
    pub fn has_compartment(&self, id: &str) -> bool {
        self.compartments.contains_key(id)
    }

    /// Tenancy OCID owning a compartment.
    pub fn tenancy_of_compartment(&self, compartment: &str) -> Option<&str> {
        self.compartments.get(compartment).map(|c| c.tenancy.as_str())
    }

    /// Policies of a tenancy (empty for unknown tenancies).
    pub fn policies(&self, tenancy: &str) -> &[Statement] {
        self.tenancies
            .iter()
            .find(|t| t.id == tenancy)
            .map(|t| t.policies.as_slice())
            .unwrap_or(&[])
    }

    /// Whether a policy location in `tenancy` covers `compartment` (itself or a descendant).
    pub fn location_covers(&self, tenancy: &str, location: &Location, compartment: &str) -> bool {
        let target = match location {
            Location::Tenancy => return self.tenancy_of_compartment(compartment) == Some(tenancy),
            Location::Compartment(r) => match self.compartment_id(tenancy, Some(r)) {
                Ok(id) => id,
                Err(_) => return false,
            },
        };
        let mut cur = Some(compartment.to_string());
        while let Some(c) = cur {
            if c == target {
                return true;
            }
            cur = self.compartments.get(&c).and_then(|x| x.parent.clone());
        }
        false
    }

    /// (name, OCID) of the groups a user principal belongs to.
    pub fn groups_of(&self, p: &Principal) -> Vec<(String, String)> {
        let Some((tenancy, names)) = self.users.get(&p.id) else { return Vec::new() };
        names
            .iter()
            .filter_map(|n| {
                self.groups
                    .get(&(tenancy.clone(), n.to_ascii_lowercase()))
                    .map(|id| (n.clone(), id.clone()))
            })
            .collect()
    }

    /// (name, OCID) of the dynamic groups of the principal's tenancy that list it as a member.
    pub fn dynamic_groups_of(&self, p: &Principal) -> Vec<(String, String)> {
        self.dynamic_groups
            .iter()
            .filter(|dg| dg.tenancy == p.tenancy && dg.members.contains(&p.id))
            .map(|dg| (dg.name.clone(), dg.id.clone()))
            .collect()
    }
}
