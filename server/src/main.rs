//! `aura`: starts the web server. Configuration comes from `Leptos.toml`, `.env` and the
//! environment; see the README.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match aura_server::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("aura: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
