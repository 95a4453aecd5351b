// SPDX-License-Identifier: MPL-2.0
//! Fuzz target: see `ocikms_fuzz::kms_client`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ocikms_fuzz::kms_client(data));
