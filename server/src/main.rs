//! `aura`: the server and its command line. `aura serve` (or a bare `aura`) starts the web
//! server; configuration comes from `Leptos.toml`, `.env` and the environment (see the
//! README). Every other command is described by `aura --help`.
//!
//! `aura __evaluate <MB>` is the template evaluator the server starts as child processes;
//! it is checked first, before any argument parsing, runtime or configuration.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(aura_engine::EVALUATOR_ARG) {
        return aura_engine::serve_evaluations(args);
    }
    let cli = aura_server::cli::Cli::parse();
    if let Some(code) = aura_server::cli::run(cli) {
        return code;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("aura: could not start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(aura_server::run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("aura: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
