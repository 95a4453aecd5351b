// SPDX-License-Identifier: MPL-2.0
//! The certificates of the emulated instances (one leaf per instance, issued at start by the
//! emulator's CA) and of the TLS server. Served by [`instance_api`](crate::instance_api).

use std::collections::HashMap;
use std::time::Duration;

use crate::pki::{Leaf, Pki, TlsMaterial};
use crate::world::{Placement, PrincipalKind, World};

/// Validity of issued instance certificates.
const LEAF_VALIDITY: Duration = Duration::from_secs(7 * 86_400);

/// Certificates of the emulated instances and the TLS server.
pub struct Identity {
    /// The CA.
    pub pki: Pki,
    leaves: HashMap<String, (Leaf, Placement)>,
    /// TLS server material when `--tls`.
    pub tls: Option<TlsMaterial>,
}

impl Identity {
    /// Issues leaf certificates for every instance of the world (and TLS material if asked).
    pub fn new(pki: Pki, world: &World, tls: bool) -> Result<Self, String> {
        let mut leaves = HashMap::new();
        for (id, place) in world.principals_of_kind(PrincipalKind::Instance) {
            let leaf = pki.issue_leaf(&id, &place.tenancy, &place.compartment, LEAF_VALIDITY)?;
            leaves.insert(id, (leaf, place));
        }
        let tls = if tls { Some(pki.issue_tls()?) } else { None };
        Ok(Identity { pki, leaves, tls })
    }

    /// The leaf certificate of `instance` and where the instance is placed.
    pub fn leaf(&self, instance: &str) -> Option<&(Leaf, Placement)> {
        self.leaves.get(instance)
    }
}
