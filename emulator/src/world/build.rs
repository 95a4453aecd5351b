// SPDX-License-Identifier: MPL-2.0
//! Building the runtime [`World`] from a [`WorldConfig`]: compartments resolved, groups, keys and
//! workloads placed, policies parsed, the ready principals checked.

use std::collections::HashMap;

use super::config::{TenancyConfig, WorldConfig};
use super::{
    ApiKey, Compartment, DynamicGroup, Placement, Principal, PrincipalKind, Ready, SeedKey,
    Tenancy, World,
};
use crate::policy;
use crate::rsakeys;

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
        let policies =
            t.policies.iter().map(|p| policy::parse(p)).collect::<Result<Vec<_>, _>>()?;
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
}
