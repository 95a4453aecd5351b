// SPDX-License-Identifier: MPL-2.0
//! IAM policy evaluation: whether a principal may act on a key, from the parsed statements of
//! its own tenancy (`allow`) or, across tenancies, of both (`endorse` + `admit`).

pub use crate::policy::Verb;
use crate::policy::{DefineKind, Statement, Subject};
use crate::world::{Principal, World};

/// Whether a resource-type word covers KMS keys.
fn covers_keys(resource: &str) -> bool {
    matches!(resource, "keys" | "key-family" | "all-resources")
}

/// Decides whether `principal` may act with `needed` on a key in `key_compartment`.
pub fn permits(world: &World, principal: &Principal, needed: Verb, key_compartment: &str) -> bool {
    let Some(res_tenancy) = world.tenancy_of_compartment(key_compartment) else { return false };
    let grants = |verb: &Verb, resource: &str| *verb >= needed && covers_keys(resource);
    if res_tenancy == principal.tenancy {
        return world.policies(res_tenancy).iter().any(|st| match st {
            Statement::Allow { subject, verb, resource, location } => {
                grants(verb, resource)
                    && local_subject_matches(world, subject, principal)
                    && world.location_covers(res_tenancy, location, key_compartment)
            }
            _ => false,
        });
    }
    let home = world.policies(&principal.tenancy);
    let endorsed = home.iter().any(|st| match st {
        Statement::Endorse { subject, verb, resource, tenancy } => {
            grants(verb, resource)
                && local_subject_matches(world, subject, principal)
                && tenancy.as_ref().is_none_or(|alias| {
                    defined(home, DefineKind::Tenancy, alias) == Some(res_tenancy)
                })
        }
        _ => false,
    });
    if !endorsed {
        return false;
    }
    let target = world.policies(res_tenancy);
    target.iter().any(|st| match st {
        Statement::Admit { subject, of_tenancy, verb, resource, location } => {
            grants(verb, resource)
                && defined(target, DefineKind::Tenancy, of_tenancy)
                    == Some(principal.tenancy.as_str())
                && admitted_subject_matches(world, target, subject, principal)
                && world.location_covers(res_tenancy, location, key_compartment)
        }
        _ => false,
    })
}

/// The OCID an alias was defined as in a tenancy's policies.
fn defined<'a>(policies: &'a [Statement], kind: DefineKind, alias: &str) -> Option<&'a str> {
    policies.iter().find_map(|st| match st {
        Statement::Define { kind: k, alias: a, ocid }
            if *k == kind && a.eq_ignore_ascii_case(alias) =>
        {
            Some(ocid.as_str())
        }
        _ => None,
    })
}

/// Subject names refer to the principal's own tenancy's groups/dynamic groups (by name or OCID).
fn local_subject_matches(world: &World, subject: &Subject, principal: &Principal) -> bool {
    match subject {
        Subject::AnyUser => true,
        Subject::Group(names) => world
            .groups_of(principal)
            .iter()
            .any(|(name, id)| names.iter().any(|n| n.eq_ignore_ascii_case(name) || n == id)),
        Subject::DynamicGroup(names) => world
            .dynamic_groups_of(principal)
            .iter()
            .any(|(name, id)| names.iter().any(|n| n.eq_ignore_ascii_case(name) || n == id)),
    }
}

/// In `admit`, subject names are aliases defined in the admitting tenancy (or OCIDs).
fn admitted_subject_matches(
    world: &World,
    policies: &[Statement],
    subject: &Subject,
    principal: &Principal,
) -> bool {
    let resolve = |kind: DefineKind, n: &String| {
        defined(policies, kind, n).map(str::to_string).unwrap_or_else(|| n.clone())
    };
    match subject {
        Subject::AnyUser => true,
        Subject::Group(names) => {
            let ids: Vec<String> = names.iter().map(|n| resolve(DefineKind::Group, n)).collect();
            world.groups_of(principal).iter().any(|(_, id)| ids.contains(id))
        }
        Subject::DynamicGroup(names) => {
            let ids: Vec<String> =
                names.iter().map(|n| resolve(DefineKind::DynamicGroup, n)).collect();
            world.dynamic_groups_of(principal).iter().any(|(_, id)| ids.contains(id))
        }
    }
}
