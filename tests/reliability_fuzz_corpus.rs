// SPDX-License-Identifier: MPL-2.0
//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`) through the fuzz target
//! bodies on the stable toolchain, so `make test` catches regressions the fuzzers once found.

#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::PathBuf;

#[test]
fn every_corpus_file_passes_its_target() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("corpus");
    for (name, target) in targets::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()))
            .map(|entry| entry.expect("corpus entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "corpus {} is empty", dir.display());
        for file in &files {
            let data = match std::fs::read(file) {
                Ok(data) => data,
                // A fuzzer running meanwhile replaces corpus entries with smaller ones.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("read {}: {e}", file.display()),
            };
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} panics", file.display());
        }
        eprintln!("{name}: {} corpus files replayed", files.len());
    }
}
