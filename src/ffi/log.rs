// SPDX-License-Identifier: MPL-2.0
//! The log callback: a minimal `tracing` subscriber that forwards the library's events (never
//! secrets: the library logs OCIDs, endpoints, statuses and request ids only) to the host.

use std::cell::Cell;
use std::ffi::{c_char, c_void, CString};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Once, PoisonError, RwLock};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

use super::error::ocikms_error;
use super::guard::{infallible, status_call};
use crate::error::{Error, ErrorCode};

/// Log level: errors only.
pub const OCIKMS_LOG_ERROR: i32 = 1;
/// Log level: warnings and above.
pub const OCIKMS_LOG_WARN: i32 = 2;
/// Log level: informational messages and above (the default).
pub const OCIKMS_LOG_INFO: i32 = 3;
/// Log level: debug messages and above.
pub const OCIKMS_LOG_DEBUG: i32 = 4;
/// Log level: everything.
pub const OCIKMS_LOG_TRACE: i32 = 5;

/// Receives one log line: `level` is an `OCIKMS_LOG_*` value, `message` a NUL-terminated UTF-8
/// line valid only during the call, `user` the pointer given to `ocikms_set_log_callback`.
/// Called from library threads, possibly several at once, never while the library holds a lock:
/// it may call any library function (even `ocikms_set_log_callback`). Lines logged by such a
/// nested call on the same thread are dropped, so a callback cannot recurse into itself. A call
/// that would wait for OCI (init, encrypt, decrypt, rewrap), made while the line comes from
/// inside such a call on the same thread, returns `OCIKMS_STATUS_INVALID_ARGUMENT` at once.
pub type ocikms_log_callback =
    Option<unsafe extern "C" fn(level: i32, message: *const c_char, user: *mut c_void)>;

/// The installed callback, its user pointer (stored as an address: the host owns it), and how
/// many calls to it are running.
struct Sink {
    callback: unsafe extern "C" fn(i32, *const c_char, *mut c_void),
    user: usize,
    in_flight: AtomicUsize,
}

static SINK: RwLock<Option<Arc<Sink>>> = RwLock::new(None);
static MAX_LEVEL: AtomicI32 = AtomicI32::new(OCIKMS_LOG_INFO);
static INSTALL: Once = Once::new();

thread_local! {
    /// The address of the sink this thread is calling (0 when none): events logged meanwhile on
    /// this thread are dropped, and `ocikms_set_log_callback` does not wait for this call.
    static DELIVERING: Cell<usize> = const { Cell::new(0) };
}

/// The sink this thread is calling, 0 when none (also during thread teardown).
fn delivering() -> usize {
    DELIVERING.try_with(Cell::get).unwrap_or(usize::MAX)
}

/// Routes the library's log lines to `callback` (NULL stops logging). Process-wide; replaces any
/// previous callback. Once this returns, the previous callback is never called again (except by
/// the call in progress on this thread when a callback itself calls this function).
#[no_mangle]
pub extern "C" fn ocikms_set_log_callback(callback: ocikms_log_callback, user: *mut c_void) {
    infallible("ocikms_set_log_callback", (), || {
        INSTALL.call_once(|| {
            // Fails only when the host process already installed a global subscriber.
            let _ = tracing::subscriber::set_global_default(CallbackSubscriber);
        });
        let sink = callback.map(|callback| {
            Arc::new(Sink { callback, user: user as usize, in_flight: AtomicUsize::new(0) })
        });
        let previous =
            std::mem::replace(&mut *SINK.write().unwrap_or_else(PoisonError::into_inner), sink);
        if let Some(previous) = previous {
            wait_until_unused(&previous);
        }
    })
}

/// Waits until no other thread is calling `sink` (it is no longer installed, so no new call
/// starts).
fn wait_until_unused(sink: &Arc<Sink>) {
    let own = usize::from(delivering() == Arc::as_ptr(sink) as usize);
    while sink.in_flight.load(Ordering::Acquire) > own {
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// One call to the sink, counted in `in_flight` and marked in [`DELIVERING`] while it runs.
struct Delivery {
    sink: Arc<Sink>,
}

impl Delivery {
    /// The installed sink, counted as in use; `None` when there is none or when this thread is
    /// already calling one (a log line from inside the callback).
    fn start() -> Option<Delivery> {
        if delivering() != 0 {
            return None;
        }
        let guard = SINK.read().unwrap_or_else(PoisonError::into_inner);
        let sink = Arc::clone(guard.as_ref()?);
        // Counted under the lock: once a replacement took the write lock, no call starts.
        sink.in_flight.fetch_add(1, Ordering::AcqRel);
        drop(guard);
        let _ = DELIVERING.try_with(|d| d.set(Arc::as_ptr(&sink) as usize));
        Some(Delivery { sink })
    }

    /// Calls the callback (no lock is held).
    fn send(&self, level: i32, line: &CString) {
        // SAFETY: the host registered this callback for exactly this call shape and, until
        // `ocikms_set_log_callback` returns, allows it to be called (it waits for this call).
        unsafe { (self.sink.callback)(level, line.as_ptr(), self.sink.user as *mut c_void) };
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        let _ = DELIVERING.try_with(|d| d.set(0));
        self.sink.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Sets the most verbose level passed to the callback (`OCIKMS_LOG_ERROR` .. `OCIKMS_LOG_TRACE`;
/// default `OCIKMS_LOG_INFO`). Returns `OCIKMS_STATUS_INVALID_ARGUMENT` for another value.
#[no_mangle]
pub extern "C" fn ocikms_set_log_level(level: i32, out_err: *mut *mut ocikms_error) -> i32 {
    status_call("ocikms_set_log_level", out_err, || {
        if !(OCIKMS_LOG_ERROR..=OCIKMS_LOG_TRACE).contains(&level) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "log level {level} is not one of OCIKMS_LOG_ERROR (1) .. OCIKMS_LOG_TRACE (5)"
                ),
            ));
        }
        MAX_LEVEL.store(level, Ordering::Relaxed);
        Ok(())
    })
}

fn level_number(level: &Level) -> i32 {
    match *level {
        Level::ERROR => OCIKMS_LOG_ERROR,
        Level::WARN => OCIKMS_LOG_WARN,
        Level::INFO => OCIKMS_LOG_INFO,
        Level::DEBUG => OCIKMS_LOG_DEBUG,
        Level::TRACE => OCIKMS_LOG_TRACE,
    }
}

/// A subscriber with no span bookkeeping: each event becomes one line for the callback.
struct CallbackSubscriber;

impl Subscriber for CallbackSubscriber {
    fn register_callsite(&self, _metadata: &'static Metadata<'static>) -> Interest {
        // Decided per event, so `ocikms_set_log_level` takes effect at once.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        level_number(metadata.level()) <= MAX_LEVEL.load(Ordering::Relaxed)
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let Some(delivery) = Delivery::start() else { return };
        let mut line = LineWriter::default();
        event.record(&mut line);
        let text = format!("{}: {}{}", event.metadata().target(), line.message, line.fields);
        let Ok(text) = CString::new(text.replace('\0', "\u{FFFD}")) else { return };
        delivery.send(level_number(event.metadata().level()), &text);
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// Formats an event: the `message` field, then ` key=value` for the others.
#[derive(Default)]
struct LineWriter {
    message: String,
    fields: String,
}

impl Visit for LineWriter {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}
