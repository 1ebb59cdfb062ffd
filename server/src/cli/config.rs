//! Where `aura login` keeps the server URL and API key: `$AURA_CLI_CONFIG`, else
//! `$XDG_CONFIG_HOME/aura/config.toml`, else `~/.config/aura/config.toml`, written with
//! mode 0600 in a 0700 directory. `AURA_URL` and `AURA_API_KEY` override the file, so CI
//! can run the CLI without logging in.

use super::CliError;
use super::client::Client;
use super::output::print_json;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The server and key a command talks to.
#[derive(Debug, Clone)]
pub struct Profile {
    pub url: String,
    pub api_key: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    url: Option<String>,
    api_key: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The server, e.g. https://aura.example.com (default: AURA_URL).
    #[arg(long, env = "AURA_URL")]
    url: Option<String>,
    /// The API key. Without it the key is read from stdin, so it stays out of shell history.
    #[arg(long)]
    key: Option<String>,
}

fn path() -> Result<PathBuf, CliError> {
    if let Some(path) = std::env::var_os("AURA_CLI_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .ok_or_else(|| {
            CliError::Usage("neither HOME nor XDG_CONFIG_HOME is set; set AURA_CLI_CONFIG".into())
        })?;
    Ok(base.join("aura").join("config.toml"))
}

fn read_saved() -> Result<Saved, CliError> {
    let path = path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|err| {
            CliError::Usage(format!(
                "{} is not a valid config file ({err}); run `aura login` again",
                path.display()
            ))
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Saved::default()),
        Err(err) => Err(CliError::io(format!("could not read {}", path.display()))(
            err,
        )),
    }
}

/// The URL and key: the environment first, then the saved login.
pub fn load() -> Result<Profile, CliError> {
    let saved = read_saved()?;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let url = env("AURA_URL").or(saved.url);
    let api_key = env("AURA_API_KEY").or(saved.api_key);
    match (url, api_key) {
        (Some(url), Some(api_key)) => Ok(Profile {
            url: normalise_url(&url)?,
            api_key: api_key.trim().to_owned(),
        }),
        _ => Err(CliError::NotLoggedIn),
    }
}

fn normalise_url(url: &str) -> Result<String, CliError> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(CliError::Usage(format!(
            "`{url}` is not a server URL; use one like https://aura.example.com"
        )));
    }
    Ok(url.to_owned())
}

/// What `/api/v1/me` answers.
#[derive(Debug, Serialize, Deserialize)]
struct Me {
    id: String,
    email: String,
    display_name: String,
    role: String,
    credential: String,
    key_id: Option<String>,
    scopes: Vec<String>,
}

pub async fn login(args: LoginArgs, json: bool) -> Result<ExitCode, CliError> {
    let url = args.url.ok_or_else(|| {
        CliError::Usage("say which server: `aura login --url https://aura.example.com`".into())
    })?;
    let url = normalise_url(&url)?;
    let key = match args.key {
        Some(key) => key,
        None => read_key()?,
    };
    let key = key.trim().to_owned();
    if !key.starts_with("aura_") {
        return Err(CliError::Usage(
            "an Aura API key starts with `aura_`; make one on the server's /settings page".into(),
        ));
    }
    let profile = Profile {
        url: url.clone(),
        api_key: key.clone(),
    };
    let me: Me = Client::new(profile)?.get("/me").await?;
    let path = save(&Saved {
        url: Some(url.clone()),
        api_key: Some(key),
    })?;
    if json {
        print_json(&me);
    } else {
        println!(
            "Logged in to {url} as {} (scopes: {}). Saved to {}.",
            me.email,
            me.scopes.join(", "),
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the key from stdin: a prompt without echo on a terminal, the first line otherwise.
fn read_key() -> Result<String, CliError> {
    let line = read_hidden("API key (from /settings): ")?;
    if line.trim().is_empty() {
        return Err(CliError::Usage(
            "no API key: pipe it in (`echo \"$KEY\" | aura login --url …`) or pass --key".into(),
        ));
    }
    Ok(line)
}

/// Reads one line from stdin: after `prompt` and without echo on a terminal; as it comes
/// when piped.
pub fn read_hidden(prompt: &str) -> Result<String, CliError> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    if tty {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let _ = std::process::Command::new("stty").arg("-echo").status();
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if tty {
        let _ = std::process::Command::new("stty").arg("echo").status();
        eprintln!();
    }
    read.map_err(CliError::io("could not read stdin"))?;
    Ok(line)
}

fn save(saved: &Saved) -> Result<PathBuf, CliError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let path = path()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(CliError::io(format!("could not create {}", dir.display())))?;
    }
    let text = toml::to_string(saved)
        .map_err(|err| CliError::Failed(format!("could not write the config: {err}")))?;
    let partial = path.with_extension("toml.partial");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)?;
        // `mode` applies only to a new file; a leftover partial file keeps its own.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&partial, &path)
    };
    write().map_err(CliError::io(format!("could not write {}", path.display())))?;
    Ok(path)
}

pub fn logout() -> Result<ExitCode, CliError> {
    let path = path()?;
    match std::fs::remove_file(&path) {
        Ok(()) => println!("Logged out: removed {}.", path.display()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            println!("Not logged in ({} does not exist).", path.display())
        }
        Err(err) => {
            return Err(CliError::io(format!("could not remove {}", path.display()))(err));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn whoami(json: bool) -> Result<ExitCode, CliError> {
    let client = Client::from_login()?;
    let me: Me = client.get("/me").await?;
    if json {
        print_json(&me);
    } else {
        println!(
            "{} ({}, {}) on {}\ncredential: {}{}\nscopes: {}",
            me.email,
            me.display_name,
            me.role,
            client.url(),
            me.credential,
            me.key_id.map(|id| format!(" {id}")).unwrap_or_default(),
            me.scopes.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
