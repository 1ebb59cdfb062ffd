//! Templates and expressions run in evaluator processes, never in the server.
//!
//! Fuel bounds the instructions a template executes, but not the work a single instruction
//! does: `(range(10) * 10**15) | sum` is a handful of instructions that never end, and
//! doubling a string forty times asks for a terabyte. Inside the server such a template
//! would keep a core busy after its step timed out, or abort the process for every user.
//! So each evaluation goes to a small pool of child processes (the same binary, started with
//! [`EVALUATOR_ARG`]): a child's writable memory is capped by `RLIMIT_DATA`, and a child
//! whose step timed out or was cancelled is killed, not waited for.
//!
//! The protocol is length-prefixed JSON frames over the child's stdin and stdout. A child
//! keeps the last run context it was sent, so the items of a map, and the several fields of
//! an `http` step, send the context once.

use crate::exec::{Item, StepContext};
use crate::limits::vars;
use crate::step::StepFailure;
use crate::templates::{BoundedText, environment};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Semaphore;

/// The first argument that makes the `aura` binary serve evaluations on stdin and stdout
/// instead of starting the server.
pub const EVALUATOR_ARG: &str = "__evaluate";

/// How to start an evaluator process: a program and the arguments before the memory cap.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluatorProgram {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl EvaluatorProgram {
    /// The running binary with [`EVALUATOR_ARG`]: what the `aura` server uses.
    pub fn current_exe() -> Self {
        Self {
            program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("aura")),
            args: vec![EVALUATOR_ARG.to_owned()],
        }
    }
}

/// One evaluation.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Task {
    /// Render a template to text.
    Render { template: String },
    /// Evaluate an expression for its truth.
    Condition { expression: String },
    /// Evaluate an expression to a list of at most `max_items` items (one more is read, to
    /// tell a list that is too long).
    List {
        expression: String,
        max_items: usize,
    },
}

impl Task {
    fn noun(&self) -> &'static str {
        match self {
            Task::Render { .. } => "Template",
            Task::Condition { .. } | Task::List { .. } => "Expression",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    task: Task,
    fuel: u64,
    max_output_bytes: usize,
    /// Which context this evaluation reads; the context itself follows in the next frame
    /// only when the child does not hold it yet.
    context_id: u64,
    sends_context: bool,
    /// Inside a map: the item and its index.
    item: Option<(Value, usize)>,
}

/// What an evaluation came to.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Outcome {
    Text(String),
    Truth(bool),
    List(Vec<Value>),
    NotAList,
    OutOfFuel,
    OutputTooLarge,
    Failed(String),
}

/// The evaluator pool of one process: at most `slots` children at once, idle ones reused.
pub(crate) struct Evaluator {
    program: EvaluatorProgram,
    memory_mb: u32,
    max_output_bytes: usize,
    idle: Mutex<Vec<Worker>>,
    slots: Semaphore,
}

/// A running child. Dropping it kills the child: that is how a timed-out or cancelled
/// evaluation ends.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    holds: Option<u64>,
}

impl Evaluator {
    pub(crate) fn new(
        program: EvaluatorProgram,
        slots: usize,
        memory_mb: u32,
        max_output_bytes: usize,
    ) -> Self {
        Self {
            program,
            memory_mb,
            max_output_bytes,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(slots.max(1)),
        }
    }

    /// Runs `task` against the context (and item) in a child process. Cancel-safe: dropping
    /// the future kills the child.
    pub(crate) async fn run(
        &self,
        task: Task,
        context: &StepContext,
        item: Option<&Item>,
        fuel: u64,
    ) -> Result<Outcome, StepFailure> {
        let noun = task.noun();
        let _slot =
            self.slots.acquire().await.map_err(|_| {
                StepFailure::retryable("The template evaluators are shutting down.")
            })?;
        let mut worker = match self.take_idle() {
            Some(worker) => worker,
            None => self.spawn()?,
        };
        let sends_context = worker.holds != Some(context.id());
        let request = Request {
            task,
            fuel,
            max_output_bytes: self.max_output_bytes,
            context_id: context.id(),
            sends_context,
            item: item.map(|item| (item.value.clone(), item.index)),
        };
        let context_text = sends_context.then(|| context.json_text());
        match worker
            .exchange(&request, context_text.as_deref(), self.frame_cap())
            .await
        {
            Ok(outcome) => {
                worker.holds = Some(context.id());
                self.idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(worker);
                Ok(outcome)
            }
            Err(err) => Err(self.lost(worker, noun, err).await),
        }
    }

    /// Largest reply accepted: no child can build a bigger one within its memory cap.
    fn frame_cap(&self) -> usize {
        self.memory_mb as usize * 1024 * 1024
    }

    fn take_idle(&self) -> Option<Worker> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(mut worker) = idle.pop() {
            if matches!(worker.child.try_wait(), Ok(None)) {
                return Some(worker);
            }
        }
        None
    }

    fn spawn(&self) -> Result<Worker, StepFailure> {
        let mut child = Command::new(&self.program.program)
            .args(&self.program.args)
            .arg(self.memory_mb.to_string())
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                tracing::error!(error = %e, program = %self.program.program.display(), "could not start a template evaluator");
                StepFailure::retryable("Could not start a template evaluator.")
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(StepFailure::retryable(
                "Could not talk to a template evaluator.",
            ));
        };
        Ok(Worker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            holds: None,
        })
    }

    /// Explains a child that stopped answering: it ran out of memory (the allocator
    /// aborts), or something else ended it.
    async fn lost(&self, mut worker: Worker, noun: &str, err: std::io::Error) -> StepFailure {
        drop(worker.stdin);
        let status = tokio::time::timeout(std::time::Duration::from_secs(2), worker.child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        use std::os::unix::process::ExitStatusExt;
        match status.and_then(|s| s.signal()) {
            // The allocator aborts when the memory cap refuses it; the kernel's OOM killer
            // sends SIGKILL.
            Some(libc::SIGABRT) | Some(libc::SIGKILL) => StepFailure::fatal(format!(
                "{noun} stopped: it needed more than {} MB of memory ({}).",
                self.memory_mb,
                vars::TEMPLATE_MEMORY
            )),
            Some(signal) => {
                StepFailure::fatal(format!("{noun} crashed its evaluator (signal {signal})."))
            }
            None => {
                tracing::warn!(error = %err, ?status, "a template evaluator stopped answering");
                StepFailure::retryable(format!("{noun} failed: the evaluator stopped answering."))
            }
        }
    }
}

impl Worker {
    async fn exchange(
        &mut self,
        request: &Request,
        context: Option<&str>,
        frame_cap: usize,
    ) -> std::io::Result<Outcome> {
        let header = serde_json::to_vec(request)?;
        write_frame_async(&mut self.stdin, &header).await?;
        if let Some(context) = context {
            write_frame_async(&mut self.stdin, context.as_bytes()).await?;
        }
        self.stdin.flush().await?;
        let len = self.stdout.read_u32_le().await? as usize;
        if len > frame_cap {
            return Err(std::io::Error::other("reply larger than the memory cap"));
        }
        let mut reply = vec![0; len];
        self.stdout.read_exact(&mut reply).await?;
        Ok(serde_json::from_slice(&reply)?)
    }
}

async fn write_frame_async(out: &mut ChildStdin, bytes: &[u8]) -> std::io::Result<()> {
    let len =
        u32::try_from(bytes.len()).map_err(|_| std::io::Error::other("frame larger than 4 GiB"))?;
    out.write_all(&len.to_le_bytes()).await?;
    out.write_all(bytes).await
}

/// The child's side: caps its own memory, then answers requests until stdin closes.
/// `args` holds the memory cap in MB.
pub fn serve_evaluations(mut args: impl Iterator<Item = String>) -> std::process::ExitCode {
    let Some(memory_mb) = args.next().and_then(|a| a.parse::<u64>().ok()) else {
        eprintln!("aura evaluator: expected the memory cap in MB as the argument");
        return std::process::ExitCode::FAILURE;
    };
    watch_parent();
    if let Err(err) = cap_memory(memory_mb * 1024 * 1024) {
        eprintln!("aura evaluator: could not cap memory: {err}");
        return std::process::ExitCode::FAILURE;
    }
    // Without this, a panic would print to the server's log for every failed template;
    // panics become `Failed` replies instead.
    std::panic::set_hook(Box::new(|_| {}));
    let mut input = std::io::stdin().lock();
    let mut output = std::io::BufWriter::new(std::io::stdout().lock());
    let mut env = environment();
    let mut held: Option<(u64, minijinja::Value)> = None;
    loop {
        let header = match read_frame(&mut input) {
            Ok(Some(header)) => header,
            Ok(None) => return std::process::ExitCode::SUCCESS,
            Err(_) => return std::process::ExitCode::FAILURE,
        };
        let outcome = match serde_json::from_slice::<Request>(&header) {
            Ok(request) => {
                if request.sends_context {
                    let Ok(Some(text)) = read_frame(&mut input) else {
                        return std::process::ExitCode::FAILURE;
                    };
                    held = serde_json::from_slice::<Value>(&text)
                        .ok()
                        .map(|json| (request.context_id, minijinja::Value::from_serialize(json)));
                }
                match &held {
                    Some((id, context)) if *id == request.context_id => {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            evaluate(&mut env, &request, context.clone())
                        }))
                        .unwrap_or_else(|_| Outcome::Failed("the evaluator panicked".into()))
                    }
                    _ => Outcome::Failed("the run context did not arrive".into()),
                }
            }
            Err(err) => Outcome::Failed(format!("bad request: {err}")),
        };
        let Ok(reply) = serde_json::to_vec(&outcome) else {
            return std::process::ExitCode::FAILURE;
        };
        if write_frame(&mut output, &reply).is_err() || output.flush().is_err() {
            return std::process::ExitCode::FAILURE;
        }
    }
}

fn evaluate(
    env: &mut minijinja::Environment<'static>,
    request: &Request,
    base: minijinja::Value,
) -> Outcome {
    env.set_fuel(Some(request.fuel));
    let context = match &request.item {
        None => base,
        Some((item, index)) => minijinja::context! {
            item => minijinja::Value::from_serialize(item),
            index => *index,
            ..base
        },
    };
    let failed = |err: minijinja::Error| {
        if err.kind() == minijinja::ErrorKind::OutOfFuel {
            Outcome::OutOfFuel
        } else {
            Outcome::Failed(err.to_string())
        }
    };
    match &request.task {
        Task::Render { template } => {
            let mut out = BoundedText::new(request.max_output_bytes);
            let rendered = env
                .template_from_str(template)
                .and_then(|t| t.render_captured_to(context, &mut out).map(|_| ()));
            match rendered {
                Ok(()) => Outcome::Text(out.into_string()),
                Err(_) if out.exceeded() => Outcome::OutputTooLarge,
                Err(err) => failed(err),
            }
        }
        Task::Condition { expression } => match env
            .compile_expression(expression)
            .and_then(|e| e.eval(context))
        {
            Ok(value) => Outcome::Truth(value.is_true()),
            Err(err) => failed(err),
        },
        Task::List {
            expression,
            max_items,
        } => {
            let value = match env
                .compile_expression(expression)
                .and_then(|e| e.eval(context))
            {
                Ok(value) => value,
                Err(err) => return failed(err),
            };
            use minijinja::value::ValueKind;
            if !matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable) {
                return Outcome::NotAList;
            }
            let items = match value.try_iter() {
                Ok(items) => items,
                Err(err) => return failed(err),
            };
            let mut list = Vec::new();
            for item in items.take(max_items.saturating_add(1)) {
                match serde_json::to_value(&item) {
                    Ok(item) => list.push(item),
                    Err(err) => return Outcome::Failed(format!("an item is not data: {err}")),
                }
            }
            Outcome::List(list)
        }
    }
}

/// Ends this process once the server that started it is gone, so that a template spinning
/// in one instruction never outlives its server.
fn watch_parent() {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(1);
            }
        }
    });
}

/// Caps this process's writable memory (heap and anonymous mappings). An allocation past
/// the cap fails, the allocator aborts, and the server reports the step out of memory.
fn cap_memory(bytes: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct we pass and changes only this process's limits.
    if unsafe { libc::setrlimit(libc::RLIMIT_DATA, &limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn read_frame(input: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(err) => return Err(err),
    }
    let mut bytes = vec![0; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut bytes)?;
    Ok(Some(bytes))
}

fn write_frame(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    let len =
        u32::try_from(bytes.len()).map_err(|_| std::io::Error::other("frame larger than 4 GiB"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)
}
