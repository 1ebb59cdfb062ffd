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
//! behind for the next one. `console.log` writes straight into the step's log, whose cap
//! holds as lines are appended, and the result is refused past the output cap.

use crate::step::StepLog;
use rquickjs::{Context, Ctx, Function, Runtime};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// What a script may use.
#[derive(Debug, Clone, Copy)]
pub struct ScriptLimits {
    pub memory_bytes: usize,
    pub wall_time: Duration,
    /// Largest result, as JSON text.
    pub max_result_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScriptError {
    #[error("The script ran longer than its {0} ms limit and was stopped.")]
    TimedOut(u128),
    #[error(
        "The script used more than its {0} MB memory limit and was stopped \
         (the most is AURA_SCRIPT_MEMORY_MB)."
    )]
    OutOfMemory(usize),
    #[error("The script was cancelled.")]
    Cancelled,
    #[error("The script threw: {0}")]
    Threw(String),
    #[error("The script's result is not JSON: {0}")]
    NotJson(String),
    #[error("The script's result is larger than the {0}-byte cap (AURA_STEP_OUTPUT_MAX_KB).")]
    ResultTooLarge(usize),
    #[error("The sandbox is not available: {0}")]
    Unavailable(String),
}

/// One script to run.
pub struct ScriptJob<'a> {
    pub code: &'a str,
    /// JSON object whose keys become the script's globals; shared by a map's items.
    pub scope: Arc<str>,
    /// `{"item": …, "index": n}` inside a map.
    pub item: Option<String>,
    pub limits: ScriptLimits,
    /// `console.log` lines go here as they are written; the log's cap applies at once.
    pub log: StepLog,
    pub cancel: Arc<AtomicBool>,
}

struct Job {
    code: String,
    scope: Arc<str>,
    item: Option<String>,
    limits: ScriptLimits,
    log: StepLog,
    cancel: Arc<AtomicBool>,
    reply: oneshot::Sender<Result<serde_json::Value, ScriptError>>,
}

/// A pool of sandbox threads. Cloning shares the pool.
#[derive(Clone)]
pub struct Sandbox {
    jobs: mpsc::Sender<Job>,
}

/// Runs before each script: `console` forwards to the host, and `input`/`steps` come from
/// the scope object, `item`/`index` from the item object.
const PRELUDE: &str = r#"(function (scope, extra) {
  const show = (v) => typeof v === "string" ? v : (v === undefined ? "undefined" : JSON.stringify(v));
  const log = (...args) => { if (!__aura_log_full()) __aura_log(args.map(show).join(" ")); };
  globalThis.console = { log, info: log, warn: log, error: log, debug: log };
  for (const key of Object.keys(scope)) globalThis[key] = scope[key];
  if (extra) { globalThis.item = extra.item; globalThis.index = extra.index; }
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

    /// Runs the job's code as the body of a function with the scope's keys as globals.
    pub async fn run(&self, job: ScriptJob<'_>) -> Result<serde_json::Value, ScriptError> {
        let (reply, answer) = oneshot::channel();
        let cancel = job.cancel.clone();
        let job = Job {
            code: job.code.to_owned(),
            scope: job.scope,
            item: job.item,
            limits: job.limits,
            log: job.log,
            cancel: job.cancel,
            reply,
        };
        if self.jobs.send(job).is_err() {
            return Err(ScriptError::Unavailable("its threads have stopped".into()));
        }
        // If this future is dropped (timeout, cancel), the flag stops the script.
        let mut guard = CancelOnDrop(Some(cancel));
        let result = answer.await.unwrap_or_else(|_| {
            Err(ScriptError::Unavailable(
                "the script thread stopped".to_owned(),
            ))
        });
        guard.0 = None;
        result
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
                let _ = job
                    .reply
                    .send(Err(ScriptError::Unavailable(err.to_string())));
                continue;
            }
        };
        let (result, reusable) = execute(&rt, &job);
        let _ = job.reply.send(result);
        if reusable {
            runtime = Some(rt);
        }
    }
}

/// Runs one job; the flag says whether the runtime is clean enough to reuse.
fn execute(rt: &Runtime, job: &Job) -> (Result<serde_json::Value, ScriptError>, bool) {
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
    let result = match Context::full(rt) {
        Ok(context) => {
            // The limit applies to the script, not to setting up the context.
            rt.set_memory_limit(job.limits.memory_bytes);
            let result = context.with(|ctx| evaluate(&ctx, job));
            rt.set_memory_limit(0);
            drop(context);
            result
        }
        Err(err) => Err(Failure::Other(ScriptError::Unavailable(err.to_string()))),
    };
    rt.set_interrupt_handler(None);
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
    (result, reusable)
}

enum Failure {
    Exception(String),
    Other(ScriptError),
}

fn evaluate(ctx: &Ctx<'_>, job: &Job) -> Result<serde_json::Value, Failure> {
    let exception = |err: rquickjs::Error| match err {
        rquickjs::Error::Exception => Failure::Exception(describe(&ctx.catch())),
        other => Failure::Exception(other.to_string()),
    };
    // Lines go to the step log as they are written, so its cap holds at append time;
    // once it is full, `console.log` stops converting its arguments at all.
    let step_log = job.log.clone();
    let log = Function::new(ctx.clone(), move |line: rquickjs::String<'_>| {
        if !step_log.is_full() {
            step_log.line(&line.to_string().unwrap_or_default());
        }
    })
    .map_err(exception)?;
    let step_log = job.log.clone();
    let full = Function::new(ctx.clone(), move || step_log.is_full()).map_err(exception)?;
    ctx.globals().set("__aura_log", log).map_err(exception)?;
    ctx.globals()
        .set("__aura_log_full", full)
        .map_err(exception)?;
    let scope = ctx.json_parse(job.scope.as_bytes()).map_err(exception)?;
    let extra = match &job.item {
        Some(item) => ctx.json_parse(item.as_bytes()).map_err(exception)?,
        None => rquickjs::Value::new_undefined(ctx.clone()),
    };
    let prelude: Function = ctx.eval(PRELUDE).map_err(exception)?;
    prelude.call::<_, ()>((scope, extra)).map_err(exception)?;
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
        Some(text) if text.len() > job.limits.max_result_bytes => Err(Failure::Other(
            ScriptError::ResultTooLarge(job.limits.max_result_bytes),
        )),
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
            max_result_bytes: 1024 * 1024,
        }
    }

    fn job<'a>(code: &'a str, log: &StepLog) -> ScriptJob<'a> {
        ScriptJob {
            code,
            scope: Arc::from(r#"{ "input": { "n": 2 }, "steps": {} }"#),
            item: None,
            limits: limits(),
            log: log.clone(),
            cancel: Arc::default(),
        }
    }

    async fn run(sandbox: &Sandbox, code: &str) -> Result<serde_json::Value, ScriptError> {
        sandbox.run(job(code, &StepLog::new(4096))).await
    }

    #[tokio::test]
    async fn scripts_read_input_and_items_log_and_return_json() {
        let sandbox = Sandbox::new(1);
        let log = StepLog::new(4096);
        let out = sandbox
            .run(job(
                "console.log('n is', input.n, {a: 1}); return { double: input.n * 2 };",
                &log,
            ))
            .await;
        assert_eq!(out.unwrap(), json!({ "double": 4 }));
        assert_eq!(log.take().as_deref(), Some("n is 2 {\"a\":1}\n"));
        assert_eq!(
            run(&sandbox, "let x = 1;").await.unwrap(),
            serde_json::Value::Null
        );
        let mut with_item = job("return [item, index, input.n];", &log);
        with_item.item = Some(r#"{"item": "x", "index": 3}"#.into());
        assert_eq!(sandbox.run(with_item).await.unwrap(), json!(["x", 3, 2]));
    }

    #[tokio::test]
    async fn console_output_stops_at_the_log_cap_while_the_script_runs() {
        let sandbox = Sandbox::new(1);
        let log = StepLog::new(1000);
        let out = sandbox
            .run(job(
                "for (let i = 0; i < 100000; i++) console.log('x'.repeat(100)); return 1;",
                &log,
            ))
            .await;
        assert_eq!(out.unwrap(), json!(1));
        let text = log.take().unwrap();
        assert!(text.len() < 1100, "{}", text.len());
        assert!(text.contains("[log truncated at 1000 bytes]"));
    }

    #[tokio::test]
    async fn a_result_over_the_cap_is_refused() {
        let sandbox = Sandbox::new(1);
        let out = run(&sandbox, "return 'x'.repeat(2 * 1024 * 1024);").await;
        assert_eq!(out.unwrap_err(), ScriptError::ResultTooLarge(1024 * 1024));
        assert_eq!(run(&sandbox, "return 5").await.unwrap(), json!(5));
    }

    #[tokio::test]
    async fn globals_do_not_leak_between_scripts_on_a_reused_runtime() {
        let sandbox = Sandbox::new(1);
        run(&sandbox, "globalThis.secret = 42; return 1;")
            .await
            .unwrap();
        let out = run(&sandbox, "return typeof secret;").await;
        assert_eq!(out.unwrap(), json!("undefined"));
    }

    #[tokio::test]
    async fn an_infinite_loop_is_interrupted_at_the_deadline() {
        let sandbox = Sandbox::new(1);
        let started = Instant::now();
        let out = run(&sandbox, "while (true) {}").await;
        assert_eq!(out.unwrap_err(), ScriptError::TimedOut(500));
        assert!(started.elapsed() < Duration::from_secs(5));
        // The thread is still usable afterwards.
        assert_eq!(run(&sandbox, "return 7").await.unwrap(), json!(7));
    }

    #[tokio::test]
    async fn a_memory_bomb_is_stopped_at_the_limit() {
        let sandbox = Sandbox::new(1);
        let out = run(
            &sandbox,
            "const a = []; while (true) { a.push('x'.repeat(1024 * 1024)); }",
        )
        .await;
        assert_eq!(out.unwrap_err(), ScriptError::OutOfMemory(32));
        assert_eq!(run(&sandbox, "return 8").await.unwrap(), json!(8));
    }

    #[tokio::test]
    async fn thrown_errors_and_missing_apis_are_reported() {
        let sandbox = Sandbox::new(1);
        let out = run(&sandbox, "throw new Error('boom')").await;
        assert!(
            matches!(&out, Err(ScriptError::Threw(m)) if m.contains("boom")),
            "{out:?}"
        );
        for code in ["return require('fs')", "return fetch('http://x')"] {
            let out = run(&sandbox, code).await;
            assert!(
                matches!(&out, Err(ScriptError::Threw(m)) if m.contains("not defined")),
                "{code}: {out:?}"
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
        let log = StepLog::new(100);
        let mut long = job("while (true) {}", &log);
        long.limits.wall_time = Duration::from_secs(30);
        long.cancel = cancel;
        assert_eq!(sandbox.run(long).await.unwrap_err(), ScriptError::Cancelled);
    }
}
