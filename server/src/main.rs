//! `aura`: starts the web server. Configuration comes from `Leptos.toml`, `.env` and the
//! environment; see the README.
//!
//! `aura openapi` prints the REST API's OpenAPI document. `aura __evaluate <MB>` is the
//! template evaluator the server starts as child processes;
//! it is checked first, before any runtime or configuration is set up.

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some(aura_engine::EVALUATOR_ARG) => return aura_engine::serve_evaluations(args),
        Some("openapi") => {
            println!("{}", aura_server::openapi_json());
            return std::process::ExitCode::SUCCESS;
        }
        _ => {}
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
