// SPDX-License-Identifier: MPL-2.0
//! Unit tests of the C ABI that need no KMS: argument checks, the panic boundary, buffers,
//! options, errors, logging and the header's version macros. (Round trips: tests/c, tests/python,
//! go-bindings.)

use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use super::buffer::*;
use super::call_opts::*;
use super::error::*;
use super::error_api::*;
use super::guard::*;
use super::log::*;
use super::seal::*;
use super::version::*;
use crate::error::ErrorCode;

fn text(ptr: *const c_char) -> String {
    assert!(!ptr.is_null());
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}

/// Takes the error out of an out-parameter, returning (code, message) and freeing it.
fn take(err: *mut ocikms_error) -> (i32, String) {
    assert!(!err.is_null(), "an error object was expected");
    let out = (ocikms_error_code(err), text(ocikms_error_message(err)));
    ocikms_error_free(err);
    out
}

#[test]
fn forced_panic_becomes_a_status_and_an_error() {
    let mut err = ptr::null_mut();
    let status = ocikms_debug_force_panic(&mut err);
    assert_eq!(status, ErrorCode::Panic.as_i32());
    let (code, message) = take(err);
    assert_eq!(code, status);
    assert!(message.contains("ocikms_debug_force_panic"), "{message}");
    // The out_err may be NULL: the status alone still reports the panic.
    assert_eq!(ocikms_debug_force_panic(ptr::null_mut()), ErrorCode::Panic.as_i32());
}

#[test]
fn null_arguments_are_invalid_argument_and_out_params_stay_untouched() {
    let invalid = ErrorCode::InvalidArgument.as_i32();
    let mut err = ptr::null_mut();
    let sentinel = ptr::dangling_mut::<ocikms_seal>();
    let mut seal = sentinel;
    assert_eq!(ocikms_seal_init(ptr::null(), &mut seal, &mut err), invalid);
    assert_eq!(seal, sentinel, "out_seal written on failure");
    let (_, message) = take(err);
    assert!(message.contains("config_json"), "{message}");

    let mut err = ptr::null_mut();
    assert_eq!(ocikms_seal_init(c"{}".as_ptr(), ptr::null_mut(), &mut err), invalid);
    assert!(take(err).1.contains("out_seal"));

    let mut buf = ocikms_buffer { data: ptr::null_mut(), len: 7 };
    let mut err = ptr::null_mut();
    assert_eq!(
        ocikms_encrypt(ptr::null(), ptr::null(), 0, ptr::null(), &mut buf, &mut err),
        invalid
    );
    assert_eq!((buf.data, buf.len), (ptr::null_mut(), 7), "out_blob written on failure");
    assert!(take(err).1.contains("`seal`"));

    let mut err = ptr::null_mut();
    assert_eq!(
        ocikms_decrypt(ptr::null(), ptr::null(), 0, ptr::null(), &mut buf, &mut err),
        invalid
    );
    ocikms_error_free(err);
    let mut err = ptr::null_mut();
    assert_eq!(
        ocikms_rewrap(
            ptr::null(),
            ptr::null(),
            0,
            ptr::null(),
            &mut buf,
            ptr::null_mut(),
            &mut err
        ),
        invalid
    );
    ocikms_error_free(err);
    let mut err = ptr::null_mut();
    let mut s: *mut c_char = ptr::null_mut();
    assert_eq!(ocikms_key_version(ptr::null(), &mut s, &mut err), invalid);
    ocikms_error_free(err);
    let mut err = ptr::null_mut();
    assert_eq!(ocikms_metadata_json(ptr::null(), &mut s, &mut err), invalid);
    ocikms_error_free(err);
    assert!(s.is_null());
}

#[test]
fn invalid_config_json_is_reported_before_any_network_call() {
    for (json, code) in [
        (c"not json".as_ptr(), ErrorCode::InvalidArgument),
        (c"[1,2]".as_ptr(), ErrorCode::InvalidArgument),
        (
            c"{\"crypto_endpoint\": \"http://127.0.0.1:9\", \"disallow_env_vars\": true}".as_ptr(),
            ErrorCode::Config,
        ),
    ] {
        let mut seal = ptr::null_mut();
        let mut err = ptr::null_mut();
        assert_eq!(ocikms_seal_init(json, &mut seal, &mut err), code.as_i32());
        assert!(seal.is_null());
        let (got, message) = take(err);
        assert_eq!(got, code.as_i32(), "{message}");
    }
    // Invalid UTF-8.
    let bad = [b'{', 0xff, b'}', 0];
    let mut seal = ptr::null_mut();
    let mut err = ptr::null_mut();
    assert_eq!(
        ocikms_seal_init(bad.as_ptr().cast(), &mut seal, &mut err),
        ErrorCode::InvalidArgument.as_i32()
    );
    assert!(take(err).1.contains("UTF-8"));
}

#[test]
fn call_opts_are_checked_and_converted() {
    let token = ocikms_cancel_token_new();
    let aad = b"context";
    let opts = ocikms_call_opts {
        struct_size: std::mem::size_of::<ocikms_call_opts>(),
        aad: aad.as_ptr(),
        aad_len: aad.len(),
        without_envelope: 1,
        timeout_ms: 1500,
        cancel: token,
    };
    let read = read_call_opts(&opts).unwrap();
    assert_eq!(read.aad.as_deref(), Some(&aad[..]));
    assert!(read.without_envelope);
    assert_eq!(read.timeout, Some(Duration::from_millis(1500)));
    assert!(!read.cancel.as_ref().unwrap().is_cancelled());
    ocikms_cancel_token_cancel(token);
    ocikms_cancel_token_cancel(token);
    assert!(ocikms_cancel_token_is_cancelled(token));
    assert!(read.cancel.as_ref().unwrap().is_cancelled(), "the call's copy sees the cancellation");
    ocikms_cancel_token_free(token);
    ocikms_cancel_token_free(ptr::null_mut());
    ocikms_cancel_token_cancel(ptr::null());

    let defaults = read_call_opts(ptr::null()).unwrap();
    assert!(defaults.aad.is_none() && !defaults.without_envelope && defaults.timeout.is_none());

    let too_small = ocikms_call_opts { struct_size: 8, ..opts_default() };
    assert_eq!(read_call_opts(&too_small).unwrap_err().code(), ErrorCode::InvalidArgument);
    let null_aad = ocikms_call_opts { aad_len: 3, ..opts_default() };
    assert!(read_call_opts(&null_aad).unwrap_err().message().contains("opts.aad"));
    let huge = ocikms_call_opts { aad: aad.as_ptr(), aad_len: usize::MAX, ..opts_default() };
    assert_eq!(read_call_opts(&huge).unwrap_err().code(), ErrorCode::InvalidArgument);
}

/// The `struct_size` rules (src/ffi/versioned.rs) on the real options struct, from a caller's
/// memory laid out as an older, this and a newer `ocikms_call_opts`.
#[test]
fn call_opts_sizes_follow_the_versioning_rules() {
    let size = std::mem::size_of::<ocikms_call_opts>();
    // Caller memory: this struct (timeout 1500 ms), then 16 bytes a newer caller would own.
    #[repr(C)]
    struct Newer {
        opts: ocikms_call_opts,
        added: [u64; 2],
    }
    let mut newer = Newer {
        opts: ocikms_call_opts { struct_size: size + 16, timeout_ms: 1500, ..opts_default() },
        added: [0, 0],
    };
    let read = read_call_opts(&newer.opts).expect("newer caller, newer fields zero");
    assert_eq!(read.timeout, Some(Duration::from_millis(1500)));
    newer.added[1] = 1;
    let err = read_call_opts(&newer.opts).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.message().contains("newer ocikms.h"), "{err}");
    // Smaller than the first version (here: without `cancel`), or no plausible size at all.
    for bad in [size - 8, 0, 1 << 20] {
        let opts = ocikms_call_opts { struct_size: bad, ..opts_default() };
        let err = read_call_opts(&opts).unwrap_err();
        assert!(err.message().contains("opts.struct_size"), "{bad}: {err}");
    }
}

#[test]
fn a_boolean_field_other_than_0_or_1_is_invalid_argument() {
    for (value, want) in [(0u8, Some(false)), (1, Some(true)), (2, None), (0xff, None)] {
        let opts = ocikms_call_opts { without_envelope: value, ..opts_default() };
        match (read_call_opts(&opts), want) {
            (Ok(read), Some(want)) => assert_eq!(read.without_envelope, want),
            (Err(err), None) => {
                assert_eq!(err.code(), ErrorCode::InvalidArgument);
                assert!(err.message().contains("opts.without_envelope` is"), "{err}");
            }
            (other, _) => panic!("without_envelope = {value}: {:?}", other.map(|_| ())),
        }
    }
}

fn opts_default() -> ocikms_call_opts {
    ocikms_call_opts {
        struct_size: std::mem::size_of::<ocikms_call_opts>(),
        aad: ptr::null(),
        aad_len: 0,
        without_envelope: 0,
        timeout_ms: 0,
        cancel: ptr::null(),
    }
}

#[test]
fn buffer_free_resets_and_tolerates_null_and_double_free() {
    let mut buf = ocikms_buffer::copy_of(b"secret bytes");
    assert_eq!(buf.len, 12);
    ocikms_buffer_free(&mut buf);
    assert!(buf.data.is_null());
    assert_eq!(buf.len, 0);
    ocikms_buffer_free(&mut buf);
    ocikms_buffer_free(ptr::null_mut());
    let mut empty = ocikms_buffer::copy_of(b"");
    assert!(!empty.data.is_null());
    ocikms_buffer_free(&mut empty);
    ocikms_string_free(ptr::null_mut());
}

#[test]
fn error_accessors_are_null_safe() {
    assert_eq!(ocikms_error_code(ptr::null()), ErrorCode::InvalidArgument.as_i32());
    assert_eq!(text(ocikms_error_message(ptr::null())), "");
    assert_eq!(text(ocikms_error_oci_code(ptr::null())), "");
    assert_eq!(text(ocikms_error_opc_request_id(ptr::null())), "");
    assert_eq!(ocikms_error_http_status(ptr::null()), 0);
    assert!(!ocikms_error_retryable(ptr::null()));
    ocikms_error_free(ptr::null_mut());
}

#[test]
fn status_names_match_error_codes() {
    assert_eq!(text(ocikms_status_name(0)), "ok");
    assert_eq!(text(ocikms_status_name(5)), "not_authorized_or_not_found");
    assert_eq!(text(ocikms_status_name(ErrorCode::Panic.as_i32())), "panic");
    assert_eq!(text(ocikms_status_name(-1)), "unknown");
    assert_eq!(text(ocikms_status_name(1000)), "unknown");
}

#[test]
fn version_matches_cargo_toml_and_the_header_macros() {
    assert_eq!(text(ocikms_version()), env!("CARGO_PKG_VERSION"));
    let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/ocikms.h"))
        .expect("include/ocikms.h is generated by build.rs");
    let macro_value = |name: &str| -> String {
        header
            .lines()
            .find_map(|line| line.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("{name} missing from the header"))
            .trim()
            .to_owned()
    };
    assert_eq!(macro_value("OCIKMS_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(macro_value("OCIKMS_VERSION_MINOR"), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(macro_value("OCIKMS_VERSION_PATCH"), env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(macro_value("OCIKMS_VERSION_STRING"), format!("\"{}\"", env!("CARGO_PKG_VERSION")));
    // Every status code is in the header with its number.
    for code in 0..=ErrorCode::Internal.as_i32() {
        let name = text(ocikms_status_name(code)).to_uppercase();
        assert!(
            header.contains(&format!("OCIKMS_STATUS_{name} = {code}")),
            "OCIKMS_STATUS_{name} missing"
        );
    }
}

static LINES: Mutex<Vec<(i32, String, usize)>> = Mutex::new(Vec::new());

unsafe extern "C" fn collect(level: i32, message: *const c_char, user: *mut c_void) {
    LINES.lock().unwrap().push((level, text(message), user as usize));
}

/// The log callback is process-wide: tests that install one run one at a time.
static LOG_TESTS: Mutex<()> = Mutex::new(());

fn log_test_lock() -> std::sync::MutexGuard<'static, ()> {
    LOG_TESTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn log_callback_receives_events_at_or_above_the_level() {
    let _serial = log_test_lock();
    assert_eq!(ocikms_set_log_level(9, ptr::null_mut()), ErrorCode::InvalidArgument.as_i32());
    ocikms_set_log_callback(Some(collect), 0x2a as *mut c_void);
    assert_eq!(ocikms_set_log_level(OCIKMS_LOG_INFO, ptr::null_mut()), 0);
    tracing::info!(key_version = "ocid1.keyversion.x", "log-test-info");
    tracing::debug!("log-test-debug-hidden");
    assert_eq!(ocikms_set_log_level(OCIKMS_LOG_DEBUG, ptr::null_mut()), 0);
    tracing::debug!("log-test-debug-shown");
    ocikms_set_log_callback(None, ptr::null_mut());
    tracing::warn!("log-test-after-removal");
    assert_eq!(ocikms_set_log_level(OCIKMS_LOG_INFO, ptr::null_mut()), 0);

    let lines = LINES.lock().unwrap();
    let ours: Vec<_> = lines.iter().filter(|(_, m, _)| m.contains("log-test-")).collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert_eq!(ours[0].0, OCIKMS_LOG_INFO);
    assert!(ours[0].1.contains("log-test-info key_version=ocid1.keyversion.x"), "{}", ours[0].1);
    assert_eq!(ours[0].2, 0x2a);
    assert_eq!(ours[1].0, OCIKMS_LOG_DEBUG);
}

static REENTRIES: AtomicUsize = AtomicUsize::new(0);
static NESTED_INIT: Mutex<Option<(i32, String)>> = Mutex::new(None);
static AFTER_REPLACEMENT: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn after_replacement(_level: i32, message: *const c_char, _user: *mut c_void) {
    AFTER_REPLACEMENT.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(text(message));
}

/// Calls back into the library from inside the callback: the version, the log level, another
/// call, a seal init (a call that would go to OCI), a nested log line, and a replacement of the
/// callback itself. (No assertion here: a panic cannot unwind out of an `extern "C"` function.)
unsafe extern "C" fn reentrant(_level: i32, message: *const c_char, user: *mut c_void) {
    if !text(message).contains("reentry-test") {
        return;
    }
    let _ = ocikms_version();
    let _ = ocikms_set_log_level(OCIKMS_LOG_DEBUG, ptr::null_mut());
    let mut buf = ocikms_buffer { data: ptr::null_mut(), len: 0 };
    let _ = ocikms_encrypt(ptr::null(), ptr::null(), 0, ptr::null(), &mut buf, ptr::null_mut());
    let config = c"{\"key_id\": \"ocid1.key.oc1..k\", \"crypto_endpoint\": \"http://127.0.0.1:9\", \"disallow_env_vars\": true}";
    let (mut seal, mut err) = (ptr::null_mut(), ptr::null_mut());
    let status = ocikms_seal_init(config.as_ptr(), &mut seal, &mut err);
    *NESTED_INIT.lock().unwrap() = Some((status, text(ocikms_error_message(err))));
    ocikms_error_free(err);
    ocikms_seal_free(seal);
    tracing::info!("reentry-test nested line, dropped");
    ocikms_set_log_callback(Some(after_replacement), user);
    REENTRIES.fetch_add(1, Ordering::SeqCst);
}

/// Runs `body` on its own thread; fails the test if it has not finished within 10 s (a deadlock).
fn finishes_in_time(what: &str, body: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    if finished.recv_timeout(Duration::from_secs(10)).is_err() {
        panic!("{what} did not finish within 10 s: deadlock");
    }
}

#[test]
fn a_log_callback_may_call_back_into_the_library() {
    let _serial = log_test_lock();
    finishes_in_time("a log callback calling back into the library", || {
        ocikms_set_log_callback(Some(reentrant), ptr::null_mut());
        assert_eq!(ocikms_set_log_level(OCIKMS_LOG_INFO, ptr::null_mut()), 0);
        // Logged from inside an async call, as the library's calls log (retries, credentials).
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async { tracing::info!("reentry-test first line") });
        tracing::info!("reentry-test second line, to the replacement");
        ocikms_set_log_callback(None, ptr::null_mut());
    });
    assert_eq!(ocikms_set_log_level(OCIKMS_LOG_INFO, ptr::null_mut()), 0);
    assert_eq!(REENTRIES.load(Ordering::SeqCst), 1, "the replaced callback was called again");
    // A call that would block on OCI from inside the library's own call is refused at once.
    let (status, message) = NESTED_INIT.lock().unwrap().clone().expect("the nested init ran");
    assert_eq!(status, ErrorCode::InvalidArgument.as_i32(), "{message}");
    assert!(message.contains("inside an async runtime"), "{message}");
    let lines = AFTER_REPLACEMENT.lock().unwrap();
    let ours: Vec<_> = lines.iter().filter(|l| l.contains("reentry-test")).collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].contains("second line"), "{ours:?}");
}

static SLOW_STARTED: AtomicBool = AtomicBool::new(false);
static SLOW_FINISHED: AtomicBool = AtomicBool::new(false);

unsafe extern "C" fn slow(_level: i32, message: *const c_char, _user: *mut c_void) {
    if text(message).contains("slow-callback-test") {
        SLOW_STARTED.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
        SLOW_FINISHED.store(true, Ordering::SeqCst);
    }
}

/// Without a lock held around the callback, replacing it must still wait for the calls in
/// progress on other threads: once `ocikms_set_log_callback` returns, the old one is done.
#[test]
fn replacing_the_callback_waits_for_its_calls_in_progress() {
    let _serial = log_test_lock();
    ocikms_set_log_callback(Some(slow), ptr::null_mut());
    let logger = std::thread::spawn(|| tracing::warn!("slow-callback-test"));
    while !SLOW_STARTED.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
    ocikms_set_log_callback(None, ptr::null_mut());
    assert!(SLOW_FINISHED.load(Ordering::SeqCst), "returned while the old callback still ran");
    logger.join().unwrap();
}

#[test]
fn infallible_turns_panics_into_the_fallback() {
    assert_eq!(infallible("test", 7, || -> i32 { panic!("boom") }), 7);
}
