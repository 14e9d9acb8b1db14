//! `pedigree serve`: run one peer over HTTP. `--demo` first creates the demo consortium
//! in the data directory when it holds none.

use crate::cmd::init::init_demo;
use crate::config::DataDir;
use crate::http::{self, Http};
use crate::node::Node;
use actix_web::{App, HttpServer, web};
use anyhow::{Context, Result};
use clap::Args;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `pedigree serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The peer's data directory.
    #[arg(long, default_value = "pedigree-data")]
    pub data_dir: PathBuf,
    /// The peer's config file; its folder is the data directory (instead of `--data-dir`).
    #[arg(long, conflicts_with_all = ["data_dir", "demo"])]
    pub config: Option<PathBuf>,
    /// Run the demo consortium (created in the data directory if it is empty).
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on, overriding peer.toml (port 0 picks a free port).
    #[arg(long)]
    pub listen: Option<String>,
    /// With `--demo`: start on an empty chain instead of writing the demo history.
    #[arg(long, requires = "demo")]
    pub no_seed: bool,
}

/// Runs the peer until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> Result<()> {
    if args.demo && !DataDir::exists(&args.data_dir) {
        init_demo(
            &args.data_dir,
            args.listen.as_deref().unwrap_or("127.0.0.1:7800"),
        )?;
    }
    let dir = match &args.config {
        Some(file) => DataDir::open_config(file)?,
        None => DataDir::open(&args.data_dir)?,
    };
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| dir.config.listen.clone());
    let metrics = PrometheusBuilder::new()
        .install_recorder()
        .context("installing the metrics recorder")?;
    let node = Arc::new(Node::start(dir)?);
    if args.demo && !args.no_seed && node.ledger.head().height == 0 {
        let events = crate::seed::seed(&node).context("writing the demo history")?;
        tracing::info!(events, "demo history written");
    }
    spawn_metrics_watcher(&node);
    actix_web::rt::System::new().block_on(serve(node.clone(), metrics, &listen))?;
    // The server has stopped: drop the node so the orderer commits what it holds.
    drop(node);
    Ok(())
}

fn spawn_metrics_watcher(node: &Arc<Node>) {
    let watch = node.ledger.watch();
    metrics::gauge!("pedigree_chain_height").set(node.ledger.head().height as f64);
    std::thread::spawn(move || {
        for notice in watch {
            metrics::gauge!("pedigree_chain_height").set(notice.height as f64);
            metrics::counter!("pedigree_blocks_committed_total").increment(1);
            metrics::counter!("pedigree_events_committed_total")
                .increment(notice.results.len() as u64);
            for (_, code) in &notice.results {
                if let Some(code) = code {
                    metrics::counter!("pedigree_events_kept_refused_total", "code" => code.clone())
                        .increment(1);
                }
            }
        }
    });
}

async fn serve(node: Arc<Node>, metrics: PrometheusHandle, listen: &str) -> Result<()> {
    let link = crate::submit::PeerLink::start(node.clone());
    let schema = pedigree_graphql::schema(node.ledger.clone(), link);
    let api = web::Data::new(crate::api::Api {
        tokens: Arc::new(crate::auth::Tokens::open(&node.dir.root)),
    });
    let state = web::Data::new(Http {
        node: node.clone(),
        schema,
        metrics,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(api.clone())
            .configure(http::routes)
    })
    .workers(2)
    .shutdown_timeout(5)
    .bind(listen)
    .with_context(|| format!("cannot listen on {listen}"))?;
    if let Some(addr) = server.addrs().first() {
        crate::auth::update_demo_credentials(&node.dir.root, &format!("http://{addr}/graphql"))?;
    }
    for addr in server.addrs() {
        // Scripts and tests read this line to find the port.
        println!(
            "pedigree: peer {} listening on http://{addr}",
            node.dir.config.peer_id
        );
    }
    use std::io::Write;
    std::io::stdout().flush().ok();
    server.run().await.context("the HTTP server failed")
}
