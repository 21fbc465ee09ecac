//! `buyerpath serve`: the reference collector. Segment-compatible ingestion
//! (`POST /v1/batch`, `/v1/track`...) into an embedded SQLite database, one
//! writer with group commit that acknowledges only what is committed, the
//! account and funnel views (`/api/accounts`, `/api/funnel`, `/dashboard/`),
//! and the demo site's static files, in one process.

mod config;
mod http;
mod ingest;
pub(crate) mod iso;
mod listen;
pub mod loadtest;
mod static_files;
mod store;
// `views::lift` is shared with `calibrate content`: one definition of the lift.
pub(crate) mod views;

pub use config::Args;
use config::Config;

use anyhow::{Context as _, Result};
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How long a shutdown waits for open requests before closing anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Runs the collector until SIGTERM or Ctrl-C, then drains, checkpoints and exits 0.
pub fn run(args: Args) -> Result<ExitCode> {
    let config = Config::from_args(args)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(config, shutdown_signal(), banner))?;
    Ok(ExitCode::SUCCESS)
}

fn banner(addr: SocketAddr, config: &Config, events: u64) {
    let url = format!("http://{addr}");
    logln!("buyerpath serve: listening on {url}");
    logln!("  ingest     POST {url}/v1/batch  (Segment HTTP API; write key as the Basic user or `writeKey`)");
    logln!("  dashboard  {url}/dashboard/");
    logln!("  views      {url}/api/accounts  {url}/api/funnel  {url}/api/health");
    match &config.www {
        Some(dir) => logln!("  site       {url}/  (from {})", dir.display()),
        None => logln!("  site       none (no www/dist here; pass --www DIR)"),
    }
    logln!(
        "  database   {} ({events} events)",
        store::describe(&config.db).display()
    );
    logln!(
        "  playbook   {} revision {}",
        config.playbook.id,
        config.playbook.revision
    );
    if !config.cors_origins.is_empty() {
        logln!("  cors       {}", config.cors_origins.join(", "));
    }
    if !config.allowed_hosts.is_empty() {
        logln!(
            "  hosts      IP addresses, localhost, {}",
            config.allowed_hosts.join(", ")
        );
    } else if !addr.ip().is_loopback() {
        logln!("  hosts      IP addresses and localhost only: clients that reach this collector by a name need --allowed-host <name>");
    }
    if let Some(c) = &config.calibration {
        logln!(
            "  candidate  {}  (review: {url}/api/calibration, dashboard)",
            c.describe()
        );
        for w in c.warnings() {
            logln!("  warning    {w}");
        }
    }
    logln!("Stop with Ctrl-C (or SIGTERM): queued events are committed first.");
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Serves until `shutdown` resolves: then stops accepting, lets open requests
/// finish (up to a grace period), commits what is queued, checkpoints the WAL
/// and returns. `ready` is called once the port is bound.
async fn serve<S, R>(config: Config, shutdown: S, ready: R) -> Result<()>
where
    S: Future<Output = ()> + Send + 'static,
    R: FnOnce(SocketAddr, &Config, u64),
{
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .with_context(|| format!("listening on {}", config.addr))?;
    let (writer, thread) = store::start(&config.db, &config.store, config.queue)?;
    let limits = listen::Limits {
        header_timeout: config.header_timeout,
        write_timeout: config.write_timeout,
        max_connections: config.max_connections,
    };
    let addr = listener.local_addr()?;
    ready(addr, &config, writer.stats.stored.load(Ordering::Relaxed));
    let app = Arc::new(http::App {
        writer: writer.clone(),
        started: Instant::now(),
        watch: store::Watch::new(&config.db),
        config,
        cache: std::sync::Mutex::default(),
        rows: http::RowCount::new(http::RECOUNT_EVERY),
        parsing: http::parsing_turns(),
        computing: Arc::default(),
        signals: std::sync::Mutex::default(),
        reading: std::sync::Mutex::default(),
    });
    tokio::spawn(http::warm(app.clone()));
    let router = http::router(app.clone());
    let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
    let reader = app.clone();
    let signal = async move {
        shutdown.await;
        reader.stop_reading();
        logln!("buyerpath serve: stopping: no new connections; committing what is queued");
        let _ = stopping_tx.send(());
    };
    let server = listen::serve(listener, router, limits, signal);
    let grace = async {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        r = server => r.context("serving")?,
        () = grace => elogln!("buyerpath serve: requests still open after {SHUTDOWN_GRACE:?}; closing them"),
    }
    writer.shutdown().await;
    drop(app);
    let stats = writer.stats.clone();
    drop(writer);
    let joined = tokio::task::spawn_blocking(move || thread.join())
        .await
        .context("waiting for the writer")?;
    match joined {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("the writer thread panicked"),
    }
    logln!(
        "buyerpath serve: stopped; {} events in the database",
        stats.stored.load(Ordering::Relaxed)
    );
    Ok(())
}

/// A collector running on its own threads (for `buyerpath loadtest`).
pub struct Background {
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Background {
    /// Starts a collector with `args` and waits until it listens.
    pub fn start(args: Args) -> Result<Background> {
        let config = Config::from_args(args)?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || -> Result<()> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let stop = async {
                let _ = stop_rx.await;
            };
            rt.block_on(serve(config, stop, move |addr, _, _| {
                let _ = ready_tx.send(addr);
            }))
        });
        match ready_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => Ok(Background {
                url: format!("http://{addr}"),
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Err(_) => match thread.join() {
                Ok(Err(e)) => Err(e),
                _ => anyhow::bail!("the collector did not start"),
            },
        }
    }

    /// Stops it the way SIGTERM does and waits for the final commit.
    pub fn stop(mut self) -> Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => anyhow::bail!("the collector thread panicked"),
            None => Ok(()),
        }
    }
}
