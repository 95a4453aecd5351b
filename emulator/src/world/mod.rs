// SPDX-License-Identifier: MPL-2.0
//! The emulated OCI world: tenancies, compartments, users and their API keys, groups, dynamic
//! groups, instances and other workloads, policies, vaults and keys — loaded from `--config`
//! ([`WorldConfig`]) or generated as a permissive single-tenancy default. Built once at start
//! (`build`), then read-only: the queries below answer authentication and IAM.

mod build;
mod config;

use std::collections::HashMap;

use aws_lc_rs::signature::ParsedPublicKey;
use serde::{Deserialize, Serialize};

pub use self::config::{
    CompartmentConfig, DynamicGroupConfig, KeyConfig, NamedConfig, ReadyConfig, ResourceConfig,
    TenancyConfig, UserConfig, WorkloadConfig, WorldConfig,
};
use crate::policy::{Location, Statement};

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
impl World {
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
