// SPDX-License-Identifier: MPL-2.0
//! The OCI config file (`~/.oci/config`): which file, which profile, and its `key=value` entries.
//!
//! Matches the OCI SDKs: the default file is `~/.oci/config`; when it does not exist and
//! `OCI_CONFIG_FILE` names a file that does, that one is used; an explicit path (the seal's
//! `config_file`) always wins. The profile is the seal's `config_profile`, else `OCI_CLI_PROFILE`,
//! else `DEFAULT`; a named profile inherits every key it lacks from `DEFAULT`. Keys are
//! case-insensitive, values are trimmed, lines starting with `#` or `;` are comments, and a
//! value may contain `=`. `~/` in path values expands to the home directory (`HOME`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::config::Env;
use crate::error::{Error, Result};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "DEFAULT";
/// Environment variable naming a config file, used when `~/.oci/config` does not exist.
pub const ENV_CONFIG_FILE: &str = "OCI_CONFIG_FILE";
/// Environment variable naming the profile (as the OCI CLI uses it).
pub const ENV_PROFILE: &str = "OCI_CLI_PROFILE";
/// The largest OCI config file read (a wrong path such as `/dev/zero` must not exhaust memory).
const MAX_CONFIG_FILE: u64 = 1 << 20;

/// One profile of an OCI config file, with the `DEFAULT` profile's keys merged in.
pub struct OciProfile {
    file: PathBuf,
    name: String,
    values: BTreeMap<String, String>,
    pass_phrase: Option<Zeroizing<String>>,
}

impl fmt::Debug for OciProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciProfile")
            .field("file", &self.file)
            .field("name", &self.name)
            .field("values", &self.values)
            .field("pass_phrase", &self.pass_phrase.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl OciProfile {
    /// Finds the config file and profile (explicit values first, then the OCI environment
    /// variables, then the defaults) and loads it.
    pub fn locate_and_load(
        explicit_file: Option<&Path>,
        explicit_profile: Option<&str>,
        env: Env<'_>,
    ) -> Result<OciProfile> {
        let file = resolve_config_path(explicit_file, env)?;
        let profile = resolve_profile(explicit_profile, env);
        OciProfile::load(&file, &profile)
    }

    /// Reads `file` and selects `profile`.
    pub fn load(file: &Path, profile: &str) -> Result<OciProfile> {
        let text = crate::read_limited::read_limited_text(file, MAX_CONFIG_FILE).map_err(|e| {
            Error::credentials(format!(
                "cannot read OCI config file {} ({e}): create it with `oci setup config`, or \
                 point config_file at an existing one",
                file.display()
            ))
        })?;
        let parsed = OciProfile::parse(&text, file, profile)?;
        if parsed.pass_phrase.is_some() {
            warn_if_readable_by_others(file, "the OCI config file holds a pass_phrase but");
        }
        Ok(parsed)
    }

    /// Parses the text of a config file (read from `file`, used in messages) and selects
    /// `profile`, merging in the keys of `DEFAULT` that it lacks.
    pub fn parse(text: &str, file: &Path, profile: &str) -> Result<OciProfile> {
        let sections = parse_sections(text);
        let Some(selected) = sections.get(profile) else {
            let present: Vec<&str> = sections.keys().map(String::as_str).collect();
            return Err(Error::credentials(format!(
                "profile [{profile}] not found in OCI config file {} (profiles present: {}): \
                 fix config_profile / {ENV_PROFILE}, or add the profile",
                file.display(),
                if present.is_empty() { "none".to_string() } else { present.join(", ") }
            )));
        };
        let mut merged: BTreeMap<&str, &Zeroizing<String>> = BTreeMap::new();
        for section in [sections.get(DEFAULT_PROFILE), Some(selected)].into_iter().flatten() {
            merged.extend(section.iter().map(|(k, v)| (k.as_str(), v)));
        }
        let pass_phrase = PASS_PHRASE_KEYS.iter().find_map(|k| merged.get(k).map(|v| (*v).clone()));
        let values = merged
            .into_iter()
            .filter(|(k, _)| !PASS_PHRASE_KEYS.contains(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(OciProfile { file: file.to_path_buf(), name: profile.to_string(), values, pass_phrase })
    }

    /// The file this profile was read from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A non-empty value of `key` (lower-case name), if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The value of `key`, or an error naming the file, the profile, the key and why it is
    /// needed.
    pub fn require(&self, key: &str, needed_for: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| {
            Error::credentials(format!(
                "OCI config file {}, profile [{}]: `{key}` is missing (needed for {needed_for}); \
                 add it to the profile",
                self.file.display(),
                self.name
            ))
        })
    }

    /// The private key's passphrase (`pass_phrase`, alias `passphrase`).
    pub fn pass_phrase(&self) -> Option<&str> {
        self.pass_phrase.as_deref().map(String::as_str).filter(|p| !p.is_empty())
    }

    /// A required path value with `~/` expanded.
    pub fn require_path(&self, key: &str, needed_for: &str, env: Env<'_>) -> Result<PathBuf> {
        let value = self.require(key, needed_for)?;
        expand_tilde(value, env).map_err(|e| {
            e.context(format!(
                "OCI config file {}, profile [{}], {key}",
                self.file.display(),
                self.name
            ))
        })
    }

    /// `"profile [NAME] of FILE"`, for messages.
    pub fn describe(&self) -> String {
        format!("profile [{}] of {}", self.name, self.file.display())
    }
}

/// The keys holding the private key's passphrase, preferred first.
const PASS_PHRASE_KEYS: [&str; 2] = ["pass_phrase", "passphrase"];

/// Profile name → lower-cased key → trimmed value (zeroed on drop: one is a passphrase).
type Sections = BTreeMap<String, BTreeMap<String, Zeroizing<String>>>;

/// Splits the file into sections. The first section of a given name wins; within a section the
/// last value of a key wins.
fn parse_sections(text: &str) -> Sections {
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    let mut skipping_duplicate = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(header) = trimmed.strip_prefix('[') {
            if let Some(end) = header.rfind(']') {
                let name = header[..end].trim().to_string();
                skipping_duplicate = sections.contains_key(&name);
                sections.entry(name.clone()).or_default();
                current = Some(name);
                continue;
            }
        }
        let (Some(section), Some((key, value))) = (&current, trimmed.split_once('=')) else {
            continue;
        };
        if skipping_duplicate {
            continue;
        }
        if let Some(entries) = sections.get_mut(section) {
            entries
                .insert(key.trim().to_ascii_lowercase(), Zeroizing::new(value.trim().to_string()));
        }
    }
    sections
}

/// Which config file to read: the explicit one, else `~/.oci/config` when it exists, else
/// `OCI_CONFIG_FILE` when it names an existing file, else an error saying what was tried.
pub fn resolve_config_path(explicit: Option<&Path>, env: Env<'_>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        let expanded = expand_tilde(&path.to_string_lossy(), env)?;
        if !expanded.is_file() {
            return Err(Error::credentials(format!(
                "OCI config file {} (from config_file) does not exist or is not a file: fix \
                 config_file",
                expanded.display()
            )));
        }
        return Ok(expanded);
    }
    let default = expand_tilde("~/.oci/config", env);
    if let Ok(default) = &default {
        if default.is_file() {
            return Ok(default.clone());
        }
    }
    if let Some(fallback) = env(ENV_CONFIG_FILE).filter(|v| !v.is_empty()) {
        let fallback = expand_tilde(&fallback, env)?;
        if fallback.is_file() {
            return Ok(fallback);
        }
        return Err(Error::credentials(format!(
            "no OCI config file: {} does not exist and {ENV_CONFIG_FILE}={} is not a file; \
             create one with `oci setup config` or set config_file",
            default.map(|d| d.display().to_string()).unwrap_or_else(|_| "~/.oci/config".into()),
            fallback.display()
        )));
    }
    Err(Error::credentials(format!(
        "no OCI config file: {} does not exist and {ENV_CONFIG_FILE} is not set; create one with \
         `oci setup config`, set config_file, or set {ENV_CONFIG_FILE}",
        default.map(|d| d.display().to_string()).unwrap_or_else(|_| "~/.oci/config".into())
    )))
}

/// The permission bits of `path` when its group or others may read it; `None` when only its owner
/// can (or its mode cannot be read).
pub fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

/// Warns, as the OCI CLI does, when `path` (a file holding a secret, described by `what`) is
/// readable by its group or by others.
pub fn warn_if_readable_by_others(path: &Path, what: &str) {
    if let Some(mode) = readable_by_others(path) {
        tracing::warn!(
            file = %path.display(),
            mode = format!("{mode:o}"),
            "{what} is readable by group or others; run chmod 600 on it"
        );
    }
}

/// Which profile to use: the explicit one, else `OCI_CLI_PROFILE`, else `DEFAULT`.
pub fn resolve_profile(explicit: Option<&str>, env: Env<'_>) -> String {
    let named = |p: &str| Some(p.trim().to_string()).filter(|p| !p.is_empty());
    explicit
        .and_then(named)
        .or_else(|| env(ENV_PROFILE).as_deref().and_then(named))
        .unwrap_or_else(|| DEFAULT_PROFILE.to_string())
}

/// Expands a leading `~` or `~/` to the home directory (`HOME`); other paths are unchanged.
pub fn expand_tilde(path: &str, env: Env<'_>) -> Result<PathBuf> {
    let rest = match path.strip_prefix('~') {
        None => return Ok(PathBuf::from(path)),
        Some("") => "",
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/'),
        Some(_) => return Ok(PathBuf::from(path)),
    };
    let home = env("HOME").filter(|h| !h.is_empty()).ok_or_else(|| {
        Error::credentials(format!(
            "cannot expand ~ in {path}: HOME is not set; use an absolute path"
        ))
    })?;
    Ok(Path::new(&home).join(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_config_file_is_an_error_not_an_out_of_memory() {
        // Found by the seal_init fuzz target (config_file = "/dev/zero").
        let err = OciProfile::load(Path::new("/dev/zero"), DEFAULT_PROFILE).err().unwrap();
        assert!(err.message().contains("larger than"), "{err}");
    }

    #[test]
    fn files_readable_by_group_or_others_are_detected() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(&file, "[DEFAULT]\n").unwrap();
        for (mode, flagged) in
            [(0o600, None), (0o400, None), (0o640, Some(0o640)), (0o604, Some(0o604))]
        {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(readable_by_others(&file), flagged, "mode {mode:o}");
        }
        assert_eq!(readable_by_others(&dir.path().join("missing")), None);
    }
    use crate::error::ErrorCode;
    use std::collections::HashMap;

    const SAMPLE: &str = "\
# OCI config
[DEFAULT]
user = ocid1.user.oc1..default
fingerprint=aa:bb
key_file = ~/.oci/key.pem
tenancy=ocid1.tenancy.oc1..t
region=us-ashburn-1
pass_phrase = p=ss word

; comment
[ADMIN]\r
User=ocid1.user.oc1..admin\r
key_file=/keys/admin.pem
# fingerprint=commented out
security_token_file = ~/.oci/sessions/ADMIN/token

[ADMIN]
user=ignored-duplicate
[EMPTY]
";

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name: &str| vars.get(name).cloned()
    }

    #[test]
    fn default_profile_and_passphrase() {
        let p = OciProfile::parse(SAMPLE, Path::new("/cfg"), "DEFAULT").unwrap();
        assert_eq!(p.get("user"), Some("ocid1.user.oc1..default"));
        assert_eq!(p.get("fingerprint"), Some("aa:bb"));
        assert_eq!(p.pass_phrase(), Some("p=ss word"));
        assert_eq!(p.get("pass_phrase"), None, "the passphrase is kept apart");
        assert!(!format!("{p:?}").contains("p=ss"), "Debug must not show the passphrase");
        let env = env_of(&[("HOME", "/home/v")]);
        assert_eq!(
            p.require_path("key_file", "test", &env).unwrap(),
            PathBuf::from("/home/v/.oci/key.pem")
        );
    }

    #[test]
    fn named_profile_inherits_from_default() {
        let p = OciProfile::parse(SAMPLE, Path::new("/cfg"), "ADMIN").unwrap();
        assert_eq!(p.get("user"), Some("ocid1.user.oc1..admin"), "own key, case-insensitive");
        assert_eq!(p.get("key_file"), Some("/keys/admin.pem"));
        assert_eq!(p.get("tenancy"), Some("ocid1.tenancy.oc1..t"), "inherited");
        assert_eq!(p.get("fingerprint"), Some("aa:bb"), "the commented line is ignored");
        assert_eq!(p.get("security_token_file"), Some("~/.oci/sessions/ADMIN/token"));
        assert_eq!(p.pass_phrase(), Some("p=ss word"));
        let empty = OciProfile::parse(SAMPLE, Path::new("/cfg"), "EMPTY").unwrap();
        assert_eq!(empty.get("region"), Some("us-ashburn-1"));
    }

    #[test]
    fn passphrase_alias() {
        let p =
            OciProfile::parse("[DEFAULT]\npassphrase=abc\n", Path::new("/c"), "DEFAULT").unwrap();
        assert_eq!(p.pass_phrase(), Some("abc"));
    }

    #[test]
    fn missing_profile_and_key_errors() {
        let err = OciProfile::parse(SAMPLE, Path::new("/etc/oci.cfg"), "NOPE").unwrap_err();
        assert_eq!(err.code(), ErrorCode::Credentials);
        let msg = err.message();
        assert!(
            msg.contains("[NOPE]") && msg.contains("/etc/oci.cfg") && msg.contains("ADMIN"),
            "{msg}"
        );

        let p = OciProfile::parse("[X]\nuser=u\n", Path::new("/etc/oci.cfg"), "X").unwrap();
        let msg = p.require("tenancy", "api_key auth").unwrap_err().message().to_string();
        assert!(
            msg.contains("/etc/oci.cfg") && msg.contains("[X]") && msg.contains("`tenancy`"),
            "{msg}"
        );
    }

    #[test]
    fn config_path_resolution() {
        let home = tempfile::tempdir().unwrap();
        let other = home.path().join("other-config");
        std::fs::write(&other, "[DEFAULT]\n").unwrap();
        let home_s = home.path().to_str().unwrap();
        let other_s = other.to_str().unwrap();

        // No ~/.oci/config: OCI_CONFIG_FILE is used.
        let env = env_of(&[("HOME", home_s), (ENV_CONFIG_FILE, other_s)]);
        assert_eq!(resolve_config_path(None, &env).unwrap(), other);

        // Neither: an error naming what was tried.
        let env = env_of(&[("HOME", home_s)]);
        let msg = resolve_config_path(None, &env).unwrap_err().message().to_string();
        assert!(msg.contains(".oci/config") && msg.contains(ENV_CONFIG_FILE), "{msg}");

        // ~/.oci/config exists: it beats OCI_CONFIG_FILE.
        std::fs::create_dir(home.path().join(".oci")).unwrap();
        let default = home.path().join(".oci/config");
        std::fs::write(&default, "[DEFAULT]\n").unwrap();
        let env = env_of(&[("HOME", home_s), (ENV_CONFIG_FILE, other_s)]);
        assert_eq!(resolve_config_path(None, &env).unwrap(), default);

        // An explicit path beats both, with ~ expanded; a missing one is an error.
        assert_eq!(resolve_config_path(Some(Path::new("~/other-config")), &env).unwrap(), other);
        let msg = resolve_config_path(Some(Path::new("/nonexistent/cfg")), &env)
            .unwrap_err()
            .message()
            .to_string();
        assert!(msg.contains("/nonexistent/cfg") && msg.contains("config_file"), "{msg}");
    }

    #[test]
    fn profile_resolution() {
        let env = env_of(&[(ENV_PROFILE, "CLI")]);
        assert_eq!(resolve_profile(Some("SEAL"), &env), "SEAL");
        assert_eq!(resolve_profile(None, &env), "CLI");
        assert_eq!(resolve_profile(None, &env_of(&[])), DEFAULT_PROFILE);
        assert_eq!(resolve_profile(Some(" "), &env), "CLI");
        assert_eq!(resolve_profile(Some(" "), &env_of(&[])), DEFAULT_PROFILE);
    }

    #[test]
    fn tilde_expansion() {
        let env = env_of(&[("HOME", "/h")]);
        assert_eq!(expand_tilde("~", &env).unwrap(), PathBuf::from("/h"));
        assert_eq!(expand_tilde("~/a/b", &env).unwrap(), PathBuf::from("/h/a/b"));
        assert_eq!(expand_tilde("/abs/~", &env).unwrap(), PathBuf::from("/abs/~"));
        assert_eq!(expand_tilde("~bob/x", &env).unwrap(), PathBuf::from("~bob/x"));
        assert!(expand_tilde("~/x", &env_of(&[])).is_err());
    }
}
