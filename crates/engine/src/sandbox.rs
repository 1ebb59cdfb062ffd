//! The `script` step's JavaScript sandbox: QuickJS through rquickjs.
//!
//! A fixed set of threads each own one QuickJS runtime and reuse it for every script, so a
//! step pays for a fresh context (isolating globals between scripts), not a fresh engine.
//! QuickJS has no file, network or timer APIs unless they are added, and none are: a script
//! sees `input`, `steps`, `item`, `index` and `console`, and returns JSON.
//!
//! Limits: the runtime's allocator refuses memory past the step's limit, and an interrupt
//! handler stops the script when its deadline passes or the step is cancelled. Either way
//! the runtime is rebuilt afterwards, so a script that ran out of memory leaves nothing
//! behind for the next one.

use rquickjs::{Context, Ctx, Function, Runtime};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// What a script may use.
#[derive(Debug, Clone, Copy)]
pub struct ScriptLimits {
    pub memory_bytes: usize,
    pub wall_time: Duration,
}

/// The outcome of one script.
#[derive(Debug)]
pub struct ScriptRun {
    pub result: Result<serde_json::Value, ScriptError>,
    /// `console.log` lines, in order.
    pub logs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScriptError {
    #[error("The script ran longer than its {0} ms limit and was stopped.")]
    TimedOut(u128),
    #[error("The script used more than its {0} MB memory limit and was stopped.")]
    OutOfMemory(usize),
    #[error("The script was cancelled.")]
    Cancelled,
    #[error("The script threw: {0}")]
    Threw(String),
    #[error("The script's result is not JSON: {0}")]
    NotJson(String),
    #[error("The sandbox is not available: {0}")]
    Unavailable(String),
}

struct Job {
    code: String,
    /// JSON object whose keys become the script's globals.
    scope: String,
    limits: ScriptLimits,
    cancel: Arc<AtomicBool>,
    reply: oneshot::Sender<ScriptRun>,
}

/// A pool of sandbox threads. Cloning shares the pool.
#[derive(Clone)]
pub struct Sandbox {
    jobs: mpsc::Sender<Job>,
}

/// The longest `console.log` output kept per script; the step log applies its own cap too.
const MAX_LOG_LINES: usize = 1_000;

/// Runs before each script: `console` forwards to the host, and `input`/`steps`/`item`/
/// `index` come from the scope object.
const PRELUDE: &str = r#"(function (scope) {
  const show = (v) => typeof v === "string" ? v : (v === undefined ? "undefined" : JSON.stringify(v));
  const log = (...args) => __aura_log(args.map(show).join(" "));
  globalThis.console = { log, info: log, warn: log, error: log, debug: log };
  for (const key of Object.keys(scope)) globalThis[key] = scope[key];
})"#;

impl Sandbox {
    /// Starts `threads` sandbox threads.
    pub fn new(threads: usize) -> Self {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("aura-script-{n}"))
                .spawn(move || worker(&receiver))
                .expect("spawn a sandbox thread");
        }
        Self { jobs }
    }

    /// Runs `code` as the body of a function with the `scope` object's keys as globals.
    pub async fn run(
        &self,
        code: &str,
        scope: &serde_json::Value,
        limits: ScriptLimits,
        cancel: Arc<AtomicBool>,
    ) -> ScriptRun {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            code: code.to_owned(),
            scope: scope.to_string(),
            limits,
            cancel: cancel.clone(),
            reply,
        };
        let unavailable = |why: &str| ScriptRun {
            result: Err(ScriptError::Unavailable(why.to_owned())),
            logs: Vec::new(),
        };
        if self.jobs.send(job).is_err() {
            return unavailable("its threads have stopped");
        }
        // If this future is dropped (timeout, cancel), the flag stops the script.
        let mut guard = CancelOnDrop(Some(cancel));
        let run = answer
            .await
            .unwrap_or_else(|_| unavailable("the script thread stopped"));
        guard.0 = None;
        run
    }
}

struct CancelOnDrop(Option<Arc<AtomicBool>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

fn new_runtime() -> Result<Runtime, rquickjs::Error> {
    let runtime = Runtime::new()?;
    runtime.set_max_stack_size(1024 * 1024);
    Ok(runtime)
}

fn worker(receiver: &Mutex<mpsc::Receiver<Job>>) {
    let mut runtime: Option<Runtime> = None;
    loop {
        let job = {
            let receiver = receiver.lock().unwrap_or_else(|e| e.into_inner());
            match receiver.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let rt = match runtime.take().map_or_else(new_runtime, Ok) {
            Ok(rt) => rt,
            Err(err) => {
                let _ = job.reply.send(ScriptRun {
                    result: Err(ScriptError::Unavailable(err.to_string())),
                    logs: Vec::new(),
                });
                continue;
            }
        };
        let (run, reusable) = execute(&rt, &job);
        let _ = job.reply.send(run);
        if reusable {
            runtime = Some(rt);
        }
    }
}

/// Runs one job; the flag says whether the runtime is clean enough to reuse.
fn execute(rt: &Runtime, job: &Job) -> (ScriptRun, bool) {
    let deadline = Instant::now() + job.limits.wall_time;
    let timed_out = Arc::new(AtomicBool::new(false));
    {
        let cancel = job.cancel.clone();
        let timed_out = timed_out.clone();
        rt.set_interrupt_handler(Some(Box::new(move || {
            if Instant::now() >= deadline {
                timed_out.store(true, Ordering::Relaxed);
                return true;
            }
            cancel.load(Ordering::Relaxed)
        })));
    }
    rt.set_memory_limit(0);
    let logs = Rc::new(RefCell::new(Vec::new()));
    let result = match Context::full(rt) {
        Ok(context) => {
            // The limit applies to the script, not to setting up the context.
            rt.set_memory_limit(job.limits.memory_bytes);
            let result = context.with(|ctx| evaluate(&ctx, job, logs.clone()));
            rt.set_memory_limit(0);
            drop(context);
            result
        }
        Err(err) => Err(Failure::Other(ScriptError::Unavailable(err.to_string()))),
    };
    rt.set_interrupt_handler(None);
    let logs = Rc::try_unwrap(logs).map_or_else(|rc| rc.borrow().clone(), RefCell::into_inner);
    let (result, reusable) = match result {
        Ok(value) => (Ok(value), true),
        Err(Failure::Exception(message)) => {
            let cause = if timed_out.load(Ordering::Relaxed) {
                ScriptError::TimedOut(job.limits.wall_time.as_millis())
            } else if job.cancel.load(Ordering::Relaxed) {
                ScriptError::Cancelled
            } else if message.contains("out of memory") {
                ScriptError::OutOfMemory(job.limits.memory_bytes / (1024 * 1024))
            } else {
                ScriptError::Threw(message)
            };
            let clean = matches!(cause, ScriptError::Threw(_));
            (Err(cause), clean)
        }
        Err(Failure::Other(err)) => (Err(err), false),
    };
    (ScriptRun { result, logs }, reusable)
}

enum Failure {
    Exception(String),
    Other(ScriptError),
}

fn evaluate(
    ctx: &Ctx<'_>,
    job: &Job,
    logs: Rc<RefCell<Vec<String>>>,
) -> Result<serde_json::Value, Failure> {
    let exception = |err: rquickjs::Error| match err {
        rquickjs::Error::Exception => Failure::Exception(describe(&ctx.catch())),
        other => Failure::Exception(other.to_string()),
    };
    let log = Function::new(ctx.clone(), move |line: String| {
        let mut logs = logs.borrow_mut();
        if logs.len() < MAX_LOG_LINES {
            logs.push(line);
        }
    })
    .map_err(exception)?;
    ctx.globals().set("__aura_log", log).map_err(exception)?;
    let scope = ctx.json_parse(job.scope.clone()).map_err(exception)?;
    let prelude: Function = ctx.eval(PRELUDE).map_err(exception)?;
    prelude.call::<_, ()>((scope,)).map_err(exception)?;
    let wrapped = format!("(function () {{\n\"use strict\";\n{}\n}})()", job.code);
    let value: rquickjs::Value = ctx.eval(wrapped).map_err(exception)?;
    let text = ctx
        .json_stringify(value)
        .map_err(exception)?
        .map(|s| s.to_string())
        .transpose()
        .map_err(exception)?;
    match text {
        None => Ok(serde_json::Value::Null),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| Failure::Other(ScriptError::NotJson(e.to_string()))),
    }
}

/// The thrown value as a message: `Error: text` plus the first stack line when there is one.
fn describe(value: &rquickjs::Value<'_>) -> String {
    if let Some(exception) = value.as_exception() {
        let message = exception.message().unwrap_or_default();
        let location = exception
            .stack()
            .and_then(|s| s.lines().next().map(|l| l.trim().to_owned()))
            .unwrap_or_default();
        if location.is_empty() {
            message
        } else {
            format!("{message} ({location})")
        }
    } else if let Some(s) = value.as_string().and_then(|s| s.to_string().ok()) {
        s
    } else {
        format!("{value:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> ScriptLimits {
        ScriptLimits {
            memory_bytes: 32 * 1024 * 1024,
            wall_time: Duration::from_millis(500),
        }
    }

    async fn run(sandbox: &Sandbox, code: &str) -> ScriptRun {
        sandbox
            .run(
                code,
                &json!({ "input": { "n": 2 }, "steps": {} }),
                limits(),
                Arc::default(),
            )
            .await
    }

    #[tokio::test]
    async fn scripts_read_input_log_and_return_json() {
        let sandbox = Sandbox::new(1);
        let out = run(
            &sandbox,
            "console.log('n is', input.n, {a: 1}); return { double: input.n * 2 };",
        )
        .await;
        assert_eq!(out.result.unwrap(), json!({ "double": 4 }));
        assert_eq!(out.logs, vec!["n is 2 {\"a\":1}"]);
        let out = run(&sandbox, "let x = 1;").await;
        assert_eq!(out.result.unwrap(), serde_json::Value::Null);
    }

    #[tokio::test]
    async fn globals_do_not_leak_between_scripts_on_a_reused_runtime() {
        let sandbox = Sandbox::new(1);
        run(&sandbox, "globalThis.secret = 42; return 1;")
            .await
            .result
            .unwrap();
        let out = run(&sandbox, "return typeof secret;").await;
        assert_eq!(out.result.unwrap(), json!("undefined"));
    }

    #[tokio::test]
    async fn an_infinite_loop_is_interrupted_at_the_deadline() {
        let sandbox = Sandbox::new(1);
        let started = Instant::now();
        let out = run(&sandbox, "while (true) {}").await;
        assert_eq!(out.result.unwrap_err(), ScriptError::TimedOut(500));
        assert!(started.elapsed() < Duration::from_secs(5));
        // The thread is still usable afterwards.
        assert_eq!(run(&sandbox, "return 7").await.result.unwrap(), json!(7));
    }

    #[tokio::test]
    async fn a_memory_bomb_is_stopped_at_the_limit() {
        let sandbox = Sandbox::new(1);
        let out = run(
            &sandbox,
            "const a = []; while (true) { a.push('x'.repeat(1024 * 1024)); }",
        )
        .await;
        assert_eq!(out.result.unwrap_err(), ScriptError::OutOfMemory(32));
        assert_eq!(run(&sandbox, "return 8").await.result.unwrap(), json!(8));
    }

    #[tokio::test]
    async fn thrown_errors_and_missing_apis_are_reported() {
        let sandbox = Sandbox::new(1);
        let out = run(&sandbox, "throw new Error('boom')").await;
        assert!(
            matches!(&out.result, Err(ScriptError::Threw(m)) if m.contains("boom")),
            "{:?}",
            out.result
        );
        for code in ["return require('fs')", "return fetch('http://x')"] {
            let out = run(&sandbox, code).await;
            assert!(
                matches!(&out.result, Err(ScriptError::Threw(m)) if m.contains("not defined")),
                "{code}: {:?}",
                out.result
            );
        }
    }

    #[tokio::test]
    async fn cancelling_stops_a_running_script() {
        let sandbox = Sandbox::new(1);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            flag.store(true, Ordering::Relaxed);
        });
        let out = sandbox
            .run(
                "while (true) {}",
                &json!({}),
                ScriptLimits {
                    memory_bytes: 1 << 24,
                    wall_time: Duration::from_secs(30),
                },
                cancel,
            )
            .await;
        assert_eq!(out.result.unwrap_err(), ScriptError::Cancelled);
    }
}
