// SPDX-License-Identifier: MPL-2.0
//! Build script: regenerates the C header `include/ocikms.h` from `src/ffi` with cbindgen on
//! every build, and writes the pkg-config file `ocikms.pc` next to the built libraries.
//!
//! The header is committed; `scripts/check-header.sh` fails when the committed copy differs from
//! what this script generates. A header generation failure (e.g. while another module is being
//! edited and does not parse) is a warning, never a build failure: the previous header stays.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=src/error.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=ocikms.pc.in");
    println!("cargo:rerun-if-changed=build.rs");

    let crate_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    generate_header(&crate_dir);
    write_pkg_config(&crate_dir);
    set_soname();
}

/// Gives the shared library the SONAME `libocikms.so.<major>` on Linux: programs record that
/// name, so a newer library with the same major version (the ABI only grows within one, see
/// docs/embedding.md) replaces the file without relinking them. `make install` lays out
/// `libocikms.so.<version>` with the `.so.<major>` and `.so` links.
fn set_soname() {
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libocikms.so.{major}");
    }
}

/// The macros placed after the includes: the version (from Cargo.toml) and the options initialiser.
fn header_macros() -> String {
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let patch = env::var("CARGO_PKG_VERSION_PATCH").unwrap_or_default();
    let full = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    format!(
        "/** Library version (from Cargo.toml); `ocikms_version()` returns the same string. */\n\
         #define OCIKMS_VERSION_MAJOR {major}\n\
         #define OCIKMS_VERSION_MINOR {minor}\n\
         #define OCIKMS_VERSION_PATCH {patch}\n\
         #define OCIKMS_VERSION_STRING \"{full}\"\n\n\
         /** Initialiser for `ocikms_call_opts`: `ocikms_call_opts opts = OCIKMS_CALL_OPTS_INIT;` */\n\
         #define OCIKMS_CALL_OPTS_INIT {{ sizeof(ocikms_call_opts), NULL, 0, 0, 0, NULL }}\n"
    )
}

fn generate_header(crate_dir: &Path) {
    let config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(config) => config,
        Err(err) => {
            println!(
                "cargo:warning=cbindgen.toml unreadable, include/ocikms.h not regenerated: {err}"
            );
            return;
        }
    };
    let generated = cbindgen::Builder::new()
        .with_config(config)
        // Only the C ABI and the status codes: other modules' public items are not part of it.
        .with_src(crate_dir.join("src").join("error.rs"))
        .with_src(crate_dir.join("src").join("ffi").join("mod.rs"))
        .with_after_include(header_macros())
        .generate();
    let bindings = match generated {
        Ok(bindings) => bindings,
        Err(err) => {
            println!("cargo:warning=cbindgen failed, include/ocikms.h not regenerated: {err}");
            return;
        }
    };
    let mut text = Vec::new();
    bindings.write(&mut text);
    let target = crate_dir.join("include").join("ocikms.h");
    // Rewrite only on change so the header's mtime (and dependants' rebuilds) stay put.
    if fs::read(&target).ok().as_deref() != Some(text.as_slice()) {
        if let Err(err) =
            fs::create_dir_all(crate_dir.join("include")).and_then(|()| fs::write(&target, &text))
        {
            println!("cargo:warning=cannot write {}: {err}", target.display());
        }
    }
}

/// Writes `ocikms.pc` (shared library) and `ocikms-static.pc` (the `.a` by full path, so the
/// linker cannot pick the `.so` beside it) into the profile directory, where the libraries are.
fn write_pkg_config(crate_dir: &Path) {
    let Ok(out_dir) = env::var("OUT_DIR") else { return };
    // OUT_DIR = target/<profile>/build/ocikms-<hash>/out → the profile dir is three levels up.
    let Some(profile_dir) = Path::new(&out_dir).ancestors().nth(3) else { return };
    let Ok(template) = fs::read_to_string(crate_dir.join("ocikms.pc.in")) else {
        println!("cargo:warning=ocikms.pc.in missing, ocikms.pc not written");
        return;
    };
    let static_lib = profile_dir.join("libocikms.a").display().to_string();
    let variants = [
        ("ocikms.pc", "", "", "-L${libdir} -locikms".to_string(), native_static_libs()),
        (
            "ocikms-static.pc",
            "-static",
            " (static)",
            format!("{static_lib} {}", native_static_libs()),
            "",
        ),
    ];
    for (file, suffix, description, libs, private_libs) in variants {
        let pc = template
            .replace("@PREFIX@", &crate_dir.display().to_string())
            .replace("@LIBDIR@", &profile_dir.display().to_string())
            .replace("@INCLUDEDIR@", &crate_dir.join("include").display().to_string())
            .replace("@VERSION@", &env::var("CARGO_PKG_VERSION").unwrap_or_default())
            .replace("@SUFFIX@", suffix)
            .replace("@DESCRIPTION_SUFFIX@", description)
            .replace("@LIBS@", &libs)
            .replace("@NATIVE_STATIC_LIBS@", private_libs);
        let target = profile_dir.join(file);
        if fs::read_to_string(&target).ok().as_deref() != Some(pc.as_str()) {
            if let Err(err) = fs::write(&target, pc) {
                println!("cargo:warning=cannot write {}: {err}", target.display());
            }
        }
    }
}

/// The system libraries a static link needs on this target (what
/// `cargo rustc -- --print native-static-libs` reports for this crate's dependency tree).
fn native_static_libs() -> &'static str {
    match env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("macos") => "-framework Security -framework CoreFoundation -liconv -lSystem -lc -lm",
        _ => "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc",
    }
}
