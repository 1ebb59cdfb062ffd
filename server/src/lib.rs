//! The Aura server: configuration, wiring, middleware and the HTTP listener.
//!
//! `main.rs` only parses the environment and calls [`run`]; integration tests call
//! [`build`] and [`serve`] directly with their own config and a port-0 listener.

mod api;
pub mod cli;
pub mod config;
mod hooks;
mod middleware;
pub mod retention;
pub mod secrets;
mod telemetry;

/// The OpenAPI document of the REST API, as pretty JSON (`aura openapi` prints it).
pub fn openapi_json() -> String {
    api::routes().1.to_pretty_json().unwrap_or_default()
}
mod sessions;

use anyhow::Context as _;
use aura_app::server::Services;
use aura_app::{App, shell};
use aura_auth::{Accounts, AccountsConfig, SessionPolicy};
use aura_engine::{Engine, ExecutorConfig, Executors, RunnerConfig};
use aura_store::{PoolSettings, Store};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use config::{Config, LogFormat};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Shared state of the router.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The same services server functions get as Leptos context.
    pub services: Services,
    pub store: Store,
    pub config: Arc<Config>,
    /// Open event streams per user, against `AURA_MAX_EVENT_STREAMS_PER_USER`.
    pub event_streams: api::EventStreams,
    /// Open notification streams (one per tab's bell) per user, counted apart so tabs do
    /// not use up the streams run pages need: twice `AURA_MAX_EVENT_STREAMS_PER_USER`.
    pub notification_streams: api::EventStreams,
}

/// What [`build`] hands to [`serve`]: the database and the engine whose runners and
/// background jobs `serve` starts and stops.
#[derive(Clone)]
pub struct Runtime {
    pub store: Store,
    pub engine: Engine,
    pub config: Arc<Config>,
    /// For the `/metrics` listener of `AURA_METRICS_ADDR`.
    state: AppState,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Connects the database (running migrations) and builds the router.
pub async fn build(config: Config) -> anyhow::Result<(Router, Runtime)> {
    let store = Store::connect(
        &config.database_url,
        &PoolSettings {
            max_connections: config.database_max_connections,
            ..PoolSettings::default()
        },
    )
    .await
    .context("could not open the database (AURA_DATABASE_URL)")?;
    let sessions = SessionPolicy {
        idle_timeout: config.session_idle_timeout,
        absolute_lifetime: config.session_absolute_lifetime,
    };
    let vault = secrets::open_vault(&config, &store).await?;
    let models = Arc::new(
        aura_ai::ModelSettings::start(store.clone(), vault.clone(), model_bootstrap(&config))
            .await
            .context("could not load the model providers")?,
    );
    let llm = aura_ai::Llm::new(models.models(), store.clone(), config.llm_cache_ttl);
    let executors = Executors::new(ExecutorConfig {
        egress: config.http_allow.clone(),
        // Two sandbox threads per runner: a map may run two scripts at once, and no
        // step's scripts ever wait for another step's.
        script_threads: config.workers.max(1) * 2,
        limits: config.step_limits.clone(),
        evaluator: config.evaluator.clone(),
        llm: Some(llm.clone()),
    })
    .context("could not set up the workflow step executors")?;
    let project_limits = aura_projects::Limits {
        max_file_bytes: i64::from(config.max_file_kb) * 1024,
        max_project_bytes: i64::from(config.max_project_mb) * 1024 * 1024,
        ..aura_projects::Limits::default()
    };
    let engine = Engine::new(store.clone(), executors)
        .with_secrets(aura_engine::Secrets::new(store.clone(), vault.clone()))
        .with_project_limits(aura_store::ProjectLimits {
            max_project_bytes: project_limits.max_project_bytes,
            max_entries: project_limits.max_entries,
        });
    let schedules = aura_triggers::Schedules::new(store.clone(), engine.clone());
    let webhooks = aura_triggers::Webhooks::new(
        store.clone(),
        engine.clone(),
        vault,
        config.webhook_limits.clone(),
    );
    let projects = aura_projects::Projects::new(store.clone(), project_limits);
    let services = Services {
        accounts: Accounts::new(store.clone(), AccountsConfig::default()),
        api_keys: aura_auth::ApiKeys::new(store.clone()),
        sessions,
        workflows: engine.workflows().clone(),
        engine: engine.clone(),
        projects,
        models,
        llm,
        webhooks,
        schedules,
        notifications: aura_engine::Notifications::new(store.clone()),
    };
    if config.metrics_enabled() {
        telemetry::handle();
    }
    let config = Arc::new(config);
    let state = AppState {
        leptos_options: config.leptos.clone(),
        services,
        store: store.clone(),
        event_streams: api::EventStreams::new(config.max_event_streams_per_user),
        notification_streams: api::EventStreams::new(config.max_event_streams_per_user * 2),
        config: config.clone(),
    };
    let runtime = Runtime {
        store,
        engine,
        config,
        state: state.clone(),
    };
    Ok((router(state), runtime))
}

fn leptos_context(services: Services) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        provide_context(services.clone());
        let nonce = leptos::prelude::use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<middleware::CspNonce>().cloned());
        if let Some(middleware::CspNonce(nonce)) = nonce {
            provide_context(leptos::nonce::Nonce::from_value(nonce));
        }
    }
}

/// The app's routes, generated once per process. Generating them renders the app with
/// resource loading suppressed through a process-wide flag (leptos_server's
/// `SuppressResourceLoad`): a resource first polled by a request while another router is
/// being built in the same process would wait forever (leptos issue #4773). A server
/// builds one router, but the test suites build many in one process while others serve,
/// which made requests hang at random; generating once, before anything serves, ends that.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::LazyLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::LazyLock::new(|| generate_route_list(App));
    ROUTES.clone()
}

fn router(state: AppState) -> Router {
    let routes = route_list();
    let context = leptos_context(state.services.clone());
    let options = state.leptos_options.clone();
    let config = state.config.clone();

    let cookie_name = if config.secure_cookies {
        "__Host-aura_session"
    } else {
        "aura_session"
    };
    let idle =
        time::Duration::try_from(config.session_idle_timeout).unwrap_or(time::Duration::hours(12));
    let session_layer =
        SessionManagerLayer::new(sessions::DbSessionStore::new(state.store.clone()))
            .with_name(cookie_name)
            .with_path("/")
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(config.secure_cookies)
            .with_expiry(Expiry::OnInactivity(idle));

    let request_id = HeaderName::from_static(middleware::REQUEST_ID);
    let metrics_enabled = config.metrics_enabled();
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api::routes().0)
        .leptos_routes_with_context(&state, routes, context.clone(), move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
                .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::same_origin_only))
                .layer(session_layer)
                .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::resolve_caller)),
        )
        // Outside the session, same-origin and API-key layers above: a webhook's URL and
        // signature are its credentials (no cookie, any origin), and a scrape's bearer
        // token is not an API key.
        .merge(hooks::routes())
        .merge(telemetry::route())
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn(middleware::sanitize_request_id))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &axum::http::Request<_>| {
                            let id = req.headers().get(middleware::REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                        })
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
        .with_state(state);
    if metrics_enabled {
        router.layer(axum::middleware::from_fn(telemetry::track_http))
    } else {
        router
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// How long shutdown waits for steps that are executing to finish; the rest are picked up
/// again when their lease expires.
const STEP_GRACE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then drains in-flight requests, lets running steps
/// finish (up to a grace period), and closes the pool.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    runtime: Runtime,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Runtime {
        store,
        engine,
        config,
        state,
    } = runtime;
    let mut background = vec![
        tokio::spawn(delete_expired_sessions(store.clone())),
        tokio::spawn(retention::run(store.clone())),
    ];
    if config.metrics_enabled() {
        background.push(tokio::spawn(telemetry::upkeep()));
    }
    if let Some(addr) = config.metrics_addr {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("could not listen on {addr} (AURA_METRICS_ADDR)"))?;
        tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
        let metrics = telemetry::own_listener(state);
        background.push(tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, metrics).await {
                tracing::error!(error = %err, "the metrics listener stopped");
            }
        }));
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let instance = uuid::Uuid::now_v7().simple().to_string();
    let mut runners = tokio::task::JoinSet::new();
    if config.scheduler {
        let mut stopped = stopped.clone();
        runners.spawn(
            aura_triggers::Scheduler::new(store.clone(), engine.clone()).work(
                Duration::from_secs(1),
                async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                },
            ),
        );
    }
    for n in 0..config.workers {
        let mut runner_config = RunnerConfig::new(format!("{}-{n}", &instance[20..]));
        runner_config.lease = config.lease;
        runner_config.log_cap = config.step_log_max_bytes;
        runner_config.max_running_per_user = i64::from(config.max_running_steps_per_user);
        let mut stopped = stopped.clone();
        runners.spawn(engine.runner(runner_config).work(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
    }
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    let _ = stop.send(true);
    if tokio::time::timeout(STEP_GRACE, async {
        while runners.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::warn!(
            "steps still running at shutdown; their leases will expire and they will run again"
        );
        runners.abort_all();
    }
    for task in background {
        task.abort();
    }
    store.close().await;
    Ok(())
}

async fn delete_expired_sessions(store: Store) {
    // Expired rows are already invisible to `load`; sweeping them can wait one period.
    let period = Duration::from_secs(15 * 60);
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        every.tick().await;
        match store
            .delete_expired_sessions(aura_store::now_millis())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired sessions removed"),
            Err(err) => tracing::warn!(error = %err, "could not remove expired sessions"),
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining requests");
}

/// Loads the configuration from the process and runs until a shutdown signal.
pub async fn run() -> anyhow::Result<()> {
    let sources = config::Sources::from_process()?;
    let config = Config::load(&sources)?;
    init_tracing(config.log_format);
    let addr = config.leptos.site_addr;
    let (router, services) = build(config).await?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr} (LEPTOS_SITE_ADDR)"))?;
    tracing::info!("Aura listening on http://{}", listener.local_addr()?);
    serve(listener, router, services, shutdown_signal()).await
}

/// The provider from the environment (named after its protocol), which also takes bare
/// model names, and the `default` alias when `AURA_LLM_MODEL` names its model.
fn model_bootstrap(config: &Config) -> aura_ai::Bootstrap {
    aura_ai::Bootstrap {
        endpoint: Some(Arc::new(aura_ai::Endpoint {
            name: match config.llm_protocol {
                aura_ai::Protocol::OpenAi => "openai".into(),
                aura_ai::Protocol::Anthropic => "anthropic".into(),
            },
            protocol: config.llm_protocol,
            base_url: config.llm_base_url.clone(),
            api_key: config.llm_api_key.clone(),
        })),
        default_model: config.llm_model.clone(),
        timeouts: config.llm_timeouts,
        policy: aura_ai::RetryPolicy::default(),
    }
}
