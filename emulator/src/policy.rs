// SPDX-License-Identifier: MPL-2.0
//! IAM policy statements (the subset KMS needs) and their parser: `allow`, `define`, `endorse`
//! and `admit` for groups, dynamic groups and any-user, in a compartment or the tenancy.

/// Policy verbs, ordered: each includes the permissions of the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    /// List resources.
    Inspect,
    /// Read resource metadata (GetKey, key versions).
    Read,
    /// Use the resource (encrypt, decrypt, generateDataEncryptionKey).
    Use,
    /// Everything, including rotation, enable/disable and deletion.
    Manage,
}

/// Who a statement is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// `group A, B` (names or, with `id`, OCIDs).
    Group(Vec<String>),
    /// `dynamic-group A, B`.
    DynamicGroup(Vec<String>),
    /// `any-user`.
    AnyUser,
}

/// Where a statement applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// `in tenancy`.
    Tenancy,
    /// `in compartment <name|path|id ocid>`.
    Compartment(String),
}

/// The alias kinds of `define`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefineKind {
    /// `define tenancy`.
    Tenancy,
    /// `define group`.
    Group,
    /// `define dynamic-group`.
    DynamicGroup,
}

/// One parsed policy statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Statement {
    /// `define <kind> <alias> as <ocid>`.
    Define { kind: DefineKind, alias: String, ocid: String },
    /// `allow <subject> to <verb> <resource> in <location>`.
    Allow { subject: Subject, verb: Verb, resource: String, location: Location },
    /// `endorse <subject> to <verb> <resource> in tenancy <alias>|any-tenancy` (`None` = any).
    Endorse { subject: Subject, verb: Verb, resource: String, tenancy: Option<String> },
    /// `admit <subject> of tenancy <alias> to <verb> <resource> in <location>`.
    Admit { subject: Subject, of_tenancy: String, verb: Verb, resource: String, location: Location },
}

/// Parses one statement; the error says which part is not understood.
pub fn parse(text: &str) -> Result<Statement, String> {
    let spaced = text.replace(',', " , ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    if lower.iter().any(|w| w == "where") {
        return Err(format!(
            "policy {text:?}: conditions (where ...) are not supported by the emulator"
        ));
    }
    let err = |what: &str| format!("policy {text:?}: {what}");
    let first = lower.first().map(String::as_str).unwrap_or("");
    match first {
        "define" => {
            if words.len() != 5 || lower[3] != "as" {
                return Err(err("expected `define tenancy|group|dynamic-group <alias> as <ocid>`"));
            }
            let kind = match lower[1].as_str() {
                "tenancy" => DefineKind::Tenancy,
                "group" => DefineKind::Group,
                "dynamic-group" => DefineKind::DynamicGroup,
                other => return Err(err(&format!("cannot define a {other:?}"))),
            };
            Ok(Statement::Define { kind, alias: unquote(words[2]), ocid: words[4].to_string() })
        }
        "allow" | "endorse" | "admit" => {
            let to = lower.iter().position(|w| w == "to").ok_or_else(|| err("missing `to`"))?;
            let (subject_words, of_tenancy) = if first == "admit" {
                let of = lower[..to]
                    .iter()
                    .position(|w| w == "of")
                    .ok_or_else(|| err("admit needs `of tenancy <alias>`"))?;
                if to != of + 3 || lower[of + 1] != "tenancy" {
                    return Err(err("admit needs `of tenancy <alias>` right before `to`"));
                }
                (&words[1..of], Some(unquote(words[of + 2])))
            } else {
                (&words[1..to], None)
            };
            let subject = parse_subject(subject_words).map_err(|e| err(&e))?;
            let rest = &words[to + 1..];
            let rest_lower = &lower[to + 1..];
            if rest.len() < 4 || rest_lower[2] != "in" {
                return Err(err("expected `to <verb> <resource-type> in <location>`"));
            }
            let verb = match rest_lower[0].as_str() {
                "inspect" => Verb::Inspect,
                "read" => Verb::Read,
                "use" => Verb::Use,
                "manage" => Verb::Manage,
                other => return Err(err(&format!("unknown verb {other:?}"))),
            };
            let resource = rest_lower[1].clone();
            let loc_words = &rest[3..];
            let loc_lower = &rest_lower[3..];
            if first == "endorse" {
                let tenancy = match loc_lower {
                    [a] if a == "any-tenancy" => None,
                    [t, _] if t == "tenancy" => Some(unquote(loc_words[1])),
                    _ => return Err(err("endorse needs `in tenancy <alias>` or `in any-tenancy`")),
                };
                return Ok(Statement::Endorse { subject, verb, resource, tenancy });
            }
            let location = parse_location(loc_words).map_err(|e| err(&e))?;
            Ok(match of_tenancy {
                Some(of_tenancy) => {
                    Statement::Admit { subject, of_tenancy, verb, resource, location }
                }
                None => Statement::Allow { subject, verb, resource, location },
            })
        }
        _ => Err(err("statements start with allow, define, endorse or admit")),
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim_matches(|c| c == '\'' || c == '"');
    // `'Default'/'Name'` identity-domain form: the name is the last part.
    s.rsplit('/').next().unwrap_or(s).trim_matches(|c| c == '\'' || c == '"').to_string()
}

fn parse_subject(words: &[&str]) -> Result<Subject, String> {
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    match lower.first().map(String::as_str) {
        Some("any-user") if words.len() == 1 => Ok(Subject::AnyUser),
        Some(kind @ ("group" | "dynamic-group")) => {
            let names: Vec<String> = words[1..]
                .iter()
                .filter(|w| **w != "," && !w.eq_ignore_ascii_case("id"))
                .map(|w| unquote(w))
                .collect();
            if names.is_empty() {
                return Err(format!("{kind} needs a name"));
            }
            Ok(if kind == "group" { Subject::Group(names) } else { Subject::DynamicGroup(names) })
        }
        _ => {
            Err("subject must be `group <name>`, `dynamic-group <name>` or `any-user`".to_string())
        }
    }
}

fn parse_location(words: &[&str]) -> Result<Location, String> {
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    match lower.as_slice() {
        [t] if t == "tenancy" => Ok(Location::Tenancy),
        [c, _] if c == "compartment" => Ok(Location::Compartment(unquote(words[1]))),
        [c, id, _] if c == "compartment" && id == "id" => {
            Ok(Location::Compartment(words[2].to_string()))
        }
        _ => Err("location must be `tenancy`, `compartment <name>` or `compartment id <ocid>`"
            .to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_statements() {
        assert_eq!(
            parse("define tenancy tenantB as ocid1.tenancy.oc1..b").unwrap(),
            Statement::Define {
                kind: DefineKind::Tenancy,
                alias: "tenantB".into(),
                ocid: "ocid1.tenancy.oc1..b".into()
            }
        );
        assert_eq!(
            parse("endorse dynamic-group vault-dg to use keys in tenancy tenantB").unwrap(),
            Statement::Endorse {
                subject: Subject::DynamicGroup(vec!["vault-dg".into()]),
                verb: Verb::Use,
                resource: "keys".into(),
                tenancy: Some("tenantB".into())
            }
        );
        assert_eq!(
            parse("admit dynamic-group vault-dg of tenancy tenantA to use keys in compartment kms")
                .unwrap(),
            Statement::Admit {
                subject: Subject::DynamicGroup(vec!["vault-dg".into()]),
                of_tenancy: "tenantA".into(),
                verb: Verb::Use,
                resource: "keys".into(),
                location: Location::Compartment("kms".into())
            }
        );
        assert_eq!(
            parse("Allow group A, B to manage key-family in tenancy").unwrap(),
            Statement::Allow {
                subject: Subject::Group(vec!["A".into(), "B".into()]),
                verb: Verb::Manage,
                resource: "key-family".into(),
                location: Location::Tenancy
            }
        );
        assert!(parse("allow group A to use keys in tenancy where request.operation='x'").is_err());
        assert!(parse("allow group A to frob keys in tenancy").is_err());
        assert!(parse("permit group A").is_err());
    }

    #[test]
    fn verbs_are_ordered() {
        assert!(Verb::Manage > Verb::Use && Verb::Use > Verb::Read && Verb::Read > Verb::Inspect);
    }
}
