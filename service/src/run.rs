//! Running a service: blocking store calls off the async threads, periodic jobs, logging, and
//! serving until Ctrl-C or SIGTERM.

use std::future::Future;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::time::Duration;

use axum::Router;

use crate::error::ApiError;

/// Runs `work` (store calls that may wait for the disk) on tokio's blocking threads, so the
/// async threads keep answering. A task that could not finish (the runtime is shutting down) is
/// a 503.
pub async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| Err(ApiError::unavailable("the request was interrupted").into()))
}

/// Runs `job` on a blocking thread every `period`, until it returns `ControlFlow::Break`.
/// For purging expired sessions and codes. Must be called inside a tokio runtime.
pub fn every<F>(period: Duration, job: F)
where
    F: Fn() -> ControlFlow<()> + Send + Sync + 'static,
{
    let job = std::sync::Arc::new(job);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let job = job.clone();
            match tokio::task::spawn_blocking(move || job()).await {
                Ok(ControlFlow::Continue(())) => {}
                Ok(ControlFlow::Break(())) | Err(_) => break,
            }
        }
    });
}

/// Logs to stderr at `default_filter` (or `RUST_LOG`), as JSON lines when `LOG_FORMAT=json`.
pub fn init_logging(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

/// Serves `app` on `listener` (with each request's peer address) until [`shutdown_signal`]
/// resolves; requests in flight are answered first.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    serve_until(listener, app, shutdown_signal()).await
}

/// Like [`serve`], until `stop` resolves.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    app: Router,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
