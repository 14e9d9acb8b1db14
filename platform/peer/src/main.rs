//! The `pedigree` peer: one binary that initialises a data directory, serves a peer over
//! HTTP, audits a stored chain, manages keys, parses scans and runs the benchmarks. It
//! wires ledger, modules, stores and actix-web together; the rules live in the libraries.

mod api;
mod auth;
mod cmd;
mod config;
mod emr_http;
mod epcis_http;
mod fhir_http;
mod http;
mod network;
mod node;
mod resolver;
mod seed;
mod submit;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Pedigree: a track-and-trace ledger for serialized medicines and medical devices.
#[derive(Debug, Parser)]
#[command(name = "pedigree", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a data directory: keys, peer.toml and the genesis block.
    Init(cmd::init::InitArgs),
    /// Run a peer over HTTP.
    Serve(cmd::serve::ServeArgs),
    /// Run the demo consortium as separate peer processes on this machine.
    Up(cmd::up::UpArgs),
    /// Verify everything stored; exit 1 on any fault.
    Audit(cmd::audit::AuditArgs),
    /// Make and inspect ed25519 keys.
    #[command(subcommand)]
    Keys(cmd::keys::KeysCommand),
    /// Parse what a barcode scanner sent.
    #[command(subcommand)]
    Barcode(cmd::barcode::BarcodeCommand),
    /// Print a pack label (GS1 DataMatrix or Digital Link QR) or a PDF sheet of labels.
    Label(cmd::label::LabelArgs),
    /// The workloads behind the performance figures.
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
    /// EPCIS 2.0 documents in and out of a running peer.
    #[command(subcommand)]
    Epcis(cmd::epcis::EpcisCommand),
    /// Bearer tokens for the GraphQL API.
    #[command(subcommand)]
    Token(cmd::token::TokenCommand),
    /// A governor's admin adds or removes a peer of the consortium network.
    #[command(subcommand)]
    Consortium(cmd::consortium::ConsortiumCommand),
    #[command(flatten)]
    Transfer(cmd::transfer::TransferCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap exits 0 for --help/--version and 2 for usage errors
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // Colours only on a terminal: a log file (`up` writes one per peer) stays plain text.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,actix_server=warn,openraft=error".into()),
        )
        .init();
    let outcome = match cli.command {
        Command::Init(a) => cmd::init::run(a).map(|()| ExitCode::SUCCESS),
        Command::Serve(a) => cmd::serve::run(a).map(|()| ExitCode::SUCCESS),
        Command::Up(a) => cmd::up::run(a).map(|()| ExitCode::SUCCESS),
        Command::Audit(a) => cmd::audit::run(a),
        Command::Keys(c) => cmd::keys::run(c).map(|()| ExitCode::SUCCESS),
        Command::Barcode(c) => cmd::barcode::run(c),
        Command::Label(a) => cmd::label::run(a).map(|()| ExitCode::SUCCESS),
        Command::Bench(c) => cmd::bench::run(c).map(|()| ExitCode::SUCCESS),
        Command::Epcis(c) => cmd::epcis::run(c),
        Command::Token(c) => cmd::token::run(c).map(|()| ExitCode::SUCCESS),
        Command::Consortium(c) => cmd::consortium::run(c).map(|()| ExitCode::SUCCESS),
        Command::Transfer(c) => cmd::transfer::run(c).map(|()| ExitCode::SUCCESS),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pedigree: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
