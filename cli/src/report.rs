// SPDX-License-Identifier: MPL-2.0
//! The step-by-step report of `ocikms check`: each step printed as it finishes (✓/✗/–, timing,
//! details, error and fix), or collected into one JSON document.

use std::time::Instant;

use ocikms::Error;
use serde::Serialize;

use crate::ui::ErrorReport;
use crate::Exit;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It worked.
    Pass,
    /// It failed (see the error and fix).
    Fail,
    /// It does not apply to this configuration.
    Skip,
}

/// One finished step.
#[derive(Debug, Serialize)]
pub struct Step {
    /// Step name (`config`, `credentials`, `metadata`, `federation`, `GetKey`, `round trip`).
    pub name: &'static str,
    /// Outcome.
    pub status: Status,
    /// Wall time in milliseconds.
    pub millis: u64,
    /// What the step found, as `(name, value)` pairs.
    pub details: Vec<(String, String)>,
    /// The error of a failed step.
    pub error: Option<ErrorReport>,
    /// What to do (failed steps), or why a step was skipped.
    pub fix: Vec<String>,
}

/// The report being built.
pub struct Report {
    json: bool,
    steps: Vec<Step>,
}

impl Report {
    /// An empty report; `json` collects instead of printing.
    pub fn new(json: bool) -> Report {
        Report { json, steps: Vec::new() }
    }

    /// Records a passed step that started at `started`.
    pub fn pass(&mut self, name: &'static str, started: Instant, details: Vec<(String, String)>) {
        self.push(Step {
            name,
            status: Status::Pass,
            millis: millis(started),
            details,
            error: None,
            fix: vec![],
        });
    }

    /// Records a failed step.
    pub fn fail(
        &mut self,
        name: &'static str,
        started: Instant,
        details: Vec<(String, String)>,
        err: &Error,
        fix: Vec<String>,
    ) {
        let error = Some(ErrorReport::of(err));
        self.push(Step {
            name,
            status: Status::Fail,
            millis: millis(started),
            details,
            error,
            fix,
        });
    }

    /// Records a skipped step and why.
    pub fn skip(&mut self, name: &'static str, why: &str) {
        self.push(Step {
            name,
            status: Status::Skip,
            millis: 0,
            details: vec![],
            error: None,
            fix: vec![why.to_owned()],
        });
    }

    /// Whether every step passed or was skipped.
    pub fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.status != Status::Fail)
    }

    /// Prints the summary (or the whole JSON document) and returns the exit status.
    pub fn finish(self) -> Exit {
        let ok = self.ok();
        let failed: Vec<&str> =
            self.steps.iter().filter(|s| s.status == Status::Fail).map(|s| s.name).collect();
        if self.json {
            let doc = serde_json::json!({ "ok": ok, "failed": failed, "steps": self.steps });
            println!("{doc:#}");
        } else if ok {
            println!("\ncheck passed: Vault can use this seal configuration");
        } else {
            println!("\ncheck FAILED at: {}", failed.join(", "));
        }
        if ok {
            Exit::Success
        } else {
            Exit::Failure
        }
    }

    fn push(&mut self, step: Step) {
        if !self.json {
            print_step(&step);
        }
        self.steps.push(step);
    }
}

fn millis(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Prints one step to stdout.
fn print_step(step: &Step) {
    let mark = match step.status {
        Status::Pass => "✓",
        Status::Fail => "✗",
        Status::Skip => "–",
    };
    match step.status {
        Status::Skip => println!("{mark} {:<12} skipped: {}", step.name, step.fix.join(" ")),
        _ => println!("{mark} {:<12} {:>6} ms", step.name, step.millis),
    }
    let width = step.details.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (name, value) in &step.details {
        println!("    {name:<width$}  {value}");
    }
    if let Some(error) = &step.error {
        for line in error.lines() {
            println!("    {line}");
        }
    }
    if step.status == Status::Fail && !step.fix.is_empty() {
        println!("    fix:");
        for line in &step.fix {
            println!("      {line}");
        }
    }
}
