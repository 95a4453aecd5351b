// SPDX-License-Identifier: MPL-2.0
//! Terminal output: a progress spinner for slow steps (stderr, on a TTY only), error reports
//! with the OCI details, and the JSON form of errors.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ocikms::Error;
use serde::Serialize;

/// A spinner on stderr while a slow step runs; nothing when stderr is not a terminal or when
/// the output is JSON.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts showing `label` (when stderr is a terminal and `quiet` is false).
    pub fn start(label: &str, quiet: bool) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { stop, thread: None };
        }
        let flag = Arc::clone(&stop);
        let label = label.to_owned();
        let thread = std::thread::spawn(move || {
            const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let mut i = 0;
            // Wait a little first: fast steps finish without a flicker.
            std::thread::sleep(Duration::from_millis(150));
            while !flag.load(Ordering::Relaxed) {
                let _ = write!(std::io::stderr(), "\r{} {label}…", FRAMES[i % FRAMES.len()]);
                let _ = std::io::stderr().flush();
                i += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            let _ = std::io::stderr().flush();
        });
        Progress { stop, thread: Some(thread) }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An error as the JSON reports show it.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// The stable error code name (`not_authorized_or_not_found`).
    pub code: &'static str,
    /// Its number (the C ABI status).
    pub code_number: i32,
    /// The full message.
    pub message: String,
    /// HTTP status, when OCI answered.
    pub http_status: Option<u16>,
    /// OCI's error code (`NotAuthorizedOrNotFound`), when OCI answered.
    pub oci_code: Option<String>,
    /// The `opc-request-id`, when OCI answered.
    pub opc_request_id: Option<String>,
}

impl ErrorReport {
    /// The report of `err`.
    pub fn of(err: &Error) -> ErrorReport {
        let service = err.service();
        ErrorReport {
            code: err.code().name(),
            code_number: err.code().as_i32(),
            message: err.to_string(),
            http_status: service.map(|s| s.status),
            oci_code: service.map(|s| s.code.clone()).filter(|c| !c.is_empty()),
            opc_request_id: service.map(|s| s.opc_request_id.clone()),
        }
    }

    /// Text lines: message, code, OCI error, request id.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("error:          {}", self.message)];
        out.push(format!("code:           {} ({})", self.code, self.code_number));
        if let Some(status) = self.http_status {
            let oci = self.oci_code.as_deref().unwrap_or("");
            out.push(format!("OCI error:      HTTP {status} {oci}").trim_end().to_owned());
        }
        if let Some(id) = &self.opc_request_id {
            out.push(format!("opc-request-id: {id}"));
        }
        out
    }
}

/// Prints a failure of a command (not `check`) to stderr, or as JSON on stdout.
pub fn print_failure(err: &Error, fix: &[String], json: bool) {
    let report = ErrorReport::of(err);
    if json {
        let value = serde_json::json!({ "ok": false, "error": report, "fix": fix });
        println!("{value:#}");
        return;
    }
    let mut stderr = std::io::stderr().lock();
    for line in report.lines() {
        let _ = writeln!(stderr, "{line}");
    }
    if !fix.is_empty() {
        let _ = writeln!(stderr, "fix:");
        for line in fix {
            let _ = writeln!(stderr, "  {line}");
        }
    }
}
