// SPDX-License-Identifier: MPL-2.0
//! IAM policy evaluation on configured worlds: the seed's cross-tenancy define/endorse/admit
//! example allows, and removing either side denies; same-tenancy allow statements; verbs and
//! compartment scoping.

use oci_kms_emulator::iam::{permits, Verb};
use oci_kms_emulator::world::{Principal, PrincipalKind, World, WorldConfig};

const A: &str = "ocid1.tenancy.oc1..tenanta";
const B: &str = "ocid1.tenancy.oc1..tenantb";
const DG: &str = "ocid1.dynamicgroup.oc1..vaulthosts";
const INSTANCE: &str = "ocid1.instance.oc1..vault1";
const KEY_COMPARTMENT: &str = "ocid1.compartment.oc1..kms";
const OTHER_COMPARTMENT: &str = "ocid1.compartment.oc1..other";

/// The seed's example, verbatim apart from the placeholders.
fn seed_world(tenant_a_policies: &[&str], tenant_b_policies: &[&str]) -> World {
    let quote = |v: &[&str]| v.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", ");
    let cfg = format!(
        r#"
[ready]
user = "ocid1.user.oc1..alice"
key = "ocid1.key.oc1..k"

[[tenancies]]
name = "tenantA"
id = "{A}"
policies = [{}]
users = [{{ id = "ocid1.user.oc1..alice", groups = ["Admins"] }}]
dynamic_groups = [{{ name = "vault-hosts", id = "{DG}", members = ["{INSTANCE}"] }}]
instances = [{{ id = "{INSTANCE}" }}]

[[tenancies]]
name = "tenantB"
id = "{B}"
policies = [{}]
compartments = [{{ name = "kms", id = "{KEY_COMPARTMENT}" }}, {{ name = "other", id = "{OTHER_COMPARTMENT}" }}]
vaults = [{{ id = "ocid1.vault.oc1..v", compartment = "kms" }}]
keys = [{{ id = "ocid1.key.oc1..k", vault = "ocid1.vault.oc1..v", compartment = "kms" }}]
"#,
        quote(tenant_a_policies),
        quote(tenant_b_policies)
    );
    let parsed: WorldConfig = toml::from_str(&cfg).unwrap();
    World::build(&parsed, "us-ashburn-1", None).unwrap()
}

fn instance() -> Principal {
    Principal { kind: PrincipalKind::Instance, id: INSTANCE.into(), tenancy: A.into() }
}

fn endorse() -> String {
    "endorse dynamic-group vault-hosts to use keys in tenancy tenantB".to_string()
}
fn define_b() -> String {
    format!("define tenancy tenantB as {B}")
}
fn b_side() -> Vec<String> {
    vec![
        format!("define tenancy tenantA as {A}"),
        format!("define dynamic-group vault-hosts as {DG}"),
        "admit dynamic-group vault-hosts of tenancy tenantA to use keys in compartment kms"
            .to_string(),
    ]
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn seed_cross_tenancy_example_allows_use_in_the_admitted_compartment_only() {
    let a = [define_b(), endorse()];
    let b = b_side();
    let w = seed_world(&refs(&a), &refs(&b));
    assert!(permits(&w, &instance(), Verb::Use, KEY_COMPARTMENT));
    assert!(permits(&w, &instance(), Verb::Read, KEY_COMPARTMENT), "use includes read");
    assert!(
        !permits(&w, &instance(), Verb::Manage, KEY_COMPARTMENT),
        "use does not include manage"
    );
    assert!(!permits(&w, &instance(), Verb::Use, OTHER_COMPARTMENT));
}

#[test]
fn removing_the_endorse_side_denies() {
    let w = seed_world(&[&define_b()], &refs(&b_side()));
    assert!(!permits(&w, &instance(), Verb::Use, KEY_COMPARTMENT));
    // The endorse must name the right tenancy too.
    let wrong = [format!("define tenancy tenantB as {A}"), endorse()];
    let w = seed_world(&refs(&wrong), &refs(&b_side()));
    assert!(!permits(&w, &instance(), Verb::Use, KEY_COMPARTMENT));
}

#[test]
fn removing_the_admit_side_denies() {
    let a = [define_b(), endorse()];
    let b = b_side();
    let w = seed_world(&refs(&a), &refs(&b[..2]));
    assert!(!permits(&w, &instance(), Verb::Use, KEY_COMPARTMENT));
    // The admit must name the endorsing tenancy and the principal's dynamic group.
    let wrong_group = vec![
        b[0].clone(),
        "define dynamic-group vault-hosts as ocid1.dynamicgroup.oc1..other".into(),
        b[2].clone(),
    ];
    let w = seed_world(&refs(&a), &refs(&wrong_group));
    assert!(!permits(&w, &instance(), Verb::Use, KEY_COMPARTMENT));
}

#[test]
fn a_non_member_instance_is_denied() {
    let a = [define_b(), endorse()];
    let w = seed_world(&refs(&a), &refs(&b_side()));
    let stranger = Principal {
        kind: PrincipalKind::Instance,
        id: "ocid1.instance.oc1..stranger".into(),
        tenancy: A.into(),
    };
    assert!(!permits(&w, &stranger, Verb::Use, KEY_COMPARTMENT));
}

#[test]
fn same_tenancy_allow_statements() {
    let cfg = r#"
[[tenancies]]
name = "t"
id = "ocid1.tenancy.oc1..t"
policies = ["allow group KeyUsers to use keys in compartment apps", "allow dynamic-group hosts to manage key-family in tenancy"]
compartments = [{ name = "apps", id = "ocid1.compartment.oc1..apps" }, { name = "team", id = "ocid1.compartment.oc1..team", parent = "apps" }, { name = "ops", id = "ocid1.compartment.oc1..ops" }]
users = [{ id = "ocid1.user.oc1..u", groups = ["KeyUsers"] }, { id = "ocid1.user.oc1..nobody" }]
dynamic_groups = [{ name = "hosts", id = "ocid1.dynamicgroup.oc1..h", members = ["ocid1.instance.oc1..i"] }]
instances = [{ id = "ocid1.instance.oc1..i", compartment = "ops" }]
vaults = [{ id = "ocid1.vault.oc1..v" }]
keys = [{ id = "ocid1.key.oc1..k", vault = "ocid1.vault.oc1..v", compartment = "team" }]
"#;
    let w = World::build(&toml::from_str(cfg).unwrap(), "us-ashburn-1", None).unwrap();
    let t = "ocid1.tenancy.oc1..t".to_string();
    let user =
        Principal { kind: PrincipalKind::User, id: "ocid1.user.oc1..u".into(), tenancy: t.clone() };
    let nobody = Principal {
        kind: PrincipalKind::User,
        id: "ocid1.user.oc1..nobody".into(),
        tenancy: t.clone(),
    };
    let host =
        Principal { kind: PrincipalKind::Instance, id: "ocid1.instance.oc1..i".into(), tenancy: t };
    assert!(
        permits(&w, &user, Verb::Use, "ocid1.compartment.oc1..team"),
        "policies cover child compartments"
    );
    assert!(!permits(&w, &user, Verb::Use, "ocid1.compartment.oc1..ops"));
    assert!(!permits(&w, &user, Verb::Manage, "ocid1.compartment.oc1..team"));
    assert!(!permits(&w, &nobody, Verb::Read, "ocid1.compartment.oc1..team"));
    assert!(permits(&w, &host, Verb::Manage, "ocid1.compartment.oc1..team"));
}

#[test]
fn unsupported_statements_are_config_errors() {
    let cfg = r#"
[[tenancies]]
name = "t"
id = "ocid1.tenancy.oc1..t"
policies = ["allow group g to use keys in tenancy where target.key.id = 'x'"]
users = [{ id = "ocid1.user.oc1..u" }]
keys = [{ id = "ocid1.key.oc1..k", vault = "ocid1.vault.oc1..v" }]
"#;
    let e = World::build(&toml::from_str(cfg).unwrap(), "us-ashburn-1", None).err().unwrap();
    assert!(e.contains("not supported"), "{e}");
}

#[test]
fn the_documented_config_example_loads_and_allows_the_cross_tenancy_instance() {
    let doc =
        std::fs::read_to_string(format!("{}/../docs/emulator.md", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let start = doc.find("```toml\n").expect("docs/emulator.md has a toml example") + 8;
    let end = start + doc[start..].find("```").unwrap();
    let cfg: WorldConfig = toml::from_str(&doc[start..end]).unwrap();
    let w = World::build(&cfg, "us-ashburn-1", None).unwrap();
    assert_eq!(w.ready.key, "ocid1.key.oc1..sealkey");
    let vault1 = Principal {
        kind: PrincipalKind::Instance,
        id: "ocid1.instance.oc1..vault1".into(),
        tenancy: A.into(),
    };
    assert!(permits(&w, &vault1, Verb::Use, KEY_COMPARTMENT));
    assert!(!permits(&w, &vault1, Verb::Manage, KEY_COMPARTMENT));
}
